#!/usr/bin/env node
// Checks docs/asyncapi.json, the AsyncAPI document of Accord's event
// channels: it must equal what `accord-asyncapi` generates from the
// event-type registry now, parse with the AsyncAPI project's own parser
// (@asyncapi/parser) without a diagnostic of severity error, and give every
// registered type a channel (address = the type) with a message for it and a
// `receive` operation. A self-test breaks the document on purpose and
// expects complaints, so a parser that checks nothing cannot pass.
//
// Usage: node tests/node/check_asyncapi.mjs --generator build/bin/accord-asyncapi
//          [--doc docs/asyncapi.json]
// The exit status is 1 on any failure.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) =>
  args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
const generator = path.resolve(option('--generator', path.join(repo, 'build', 'bin', 'accord-asyncapi')));
const docPath = path.resolve(option('--doc', path.join(repo, 'docs', 'asyncapi.json')));
const REGENERATE =
  'cmake --build build --target accord-asyncapi && build/bin/accord-asyncapi --out=docs/asyncapi.json';

let failed = 0;
function report(name, problems) {
  if (problems.length === 0) {
    console.log(`ok   ${name}`);
    return;
  }
  failed++;
  console.log(`FAIL ${name}`);
  // One broken shared schema repeats through every message: show a sample.
  for (const p of problems.slice(0, 20)) console.log(`       ${String(p).replace(/\n/g, '\n       ')}`);
  if (problems.length > 20) console.log(`       ... and ${problems.length - 20} more`);
}

function run(...flags) {
  const result = spawnSync(generator, flags, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`${generator} ${flags.join(' ')} failed: ${result.error ?? result.stderr}`);
  }
  return result.stdout;
}

// Severity-error diagnostics of the AsyncAPI parser (schema and spec rules);
// warnings and hints are printed, not counted.
async function parserErrors(text, { quiet = false } = {}) {
  const { diagnostics } = await new Parser().parse(text);
  const errors = [];
  for (const d of diagnostics) {
    const line = `${d.code}: ${d.message} at /${d.path.join('/')}`;
    if (d.severity === DiagnosticSeverity.Error) errors.push(line);
    else if (!quiet) console.log(`note ${line}`);
  }
  return errors;
}

// Every registered type has a channel at its address with one message for
// it (type const = the type, the x-accord extensions) and a receive
// operation; no channel names a type the registry does not have.
function registryProblems(json, types) {
  const problems = [];
  const channels = Object.entries(json.channels ?? {});
  const operations = Object.values(json.operations ?? {});
  const messages = json.components?.messages ?? {};
  const byAddress = new Map(channels.map(([key, channel]) => [channel.address, key]));
  for (const type of types) {
    const key = byAddress.get(type);
    if (key === undefined) {
      problems.push(`no channel has address ${type}`);
      continue;
    }
    const refs = Object.values(json.channels[key].messages ?? {}).map((m) => m.$ref ?? '');
    const message = refs.length === 1 ? messages[refs[0].replace('#/components/messages/', '')] : undefined;
    const typeConst = message?.payload?.allOf?.[1]?.properties?.type?.const;
    if (typeConst !== type) problems.push(`channel ${key}: its one message should have payload type const ${type}, has ${typeConst}`);
    if (!message?.['x-accord-payload']) problems.push(`channel ${key}: message lacks x-accord-payload`);
    if (!Array.isArray(message?.['x-accord-filter-fields'])) problems.push(`channel ${key}: message lacks x-accord-filter-fields`);
    const receive = operations.some((op) => op.action === 'receive' && op.channel?.$ref === `#/channels/${key}`);
    if (!receive) problems.push(`channel ${key}: no receive operation`);
  }
  for (const [address, key] of byAddress) {
    if (!types.includes(address)) problems.push(`channel ${key} has address ${address}, not a registered type`);
  }
  return problems;
}

const types = run('--types').split('\n').filter(Boolean);
const generated = run();

// (a) The checked-in file is what the registry generates now.
{
  const problems = [];
  const current = fs.existsSync(docPath) ? fs.readFileSync(docPath, 'utf8') : null;
  if (current === null) {
    problems.push(`${docPath} is missing; generate it with:\n  ${REGENERATE}`);
  } else if (current !== generated) {
    const a = current.split('\n');
    const b = generated.split('\n');
    let line = 0;
    while (line < a.length && a[line] === b[line]) line++;
    problems.push(
      `${path.relative(repo, docPath)} differs from what accord-asyncapi generates from the ` +
        `event-type registry (first at line ${line + 1}:\n  checked in: ${a[line] ?? '<end>'}\n  generated:  ${b[line] ?? '<end>'})\n` +
        `Regenerate it (do not edit it by hand):\n  ${REGENERATE}`,
    );
  }
  report('docs/asyncapi.json is current', problems);
}

// (b) Valid AsyncAPI, as the AsyncAPI project's parser reads it.
report(`valid AsyncAPI (@asyncapi/parser): ${types.length} types`, await parserErrors(generated));
report('every registered type has a channel, message and receive operation',
  registryProblems(JSON.parse(generated), types));

// Self-test: broken copies must be caught.
{
  const problems = [];
  const broken = JSON.parse(generated);
  const firstOperation = Object.values(broken.operations)[0];
  firstOperation.action = 'publish';  // AsyncAPI 2 wording, invalid in 3
  delete broken.info.version;
  if ((await parserErrors(JSON.stringify(broken), { quiet: true })).length === 0) {
    problems.push('the parser accepted an operation with action "publish" and no info.version');
  }
  const missing = JSON.parse(generated);
  delete missing.channels[Object.keys(missing.channels)[0]];
  if (registryProblems(missing, types).length === 0) {
    problems.push('the registry check accepted a document without the first channel');
  }
  report('self-test: broken documents are rejected', problems);
}

console.log(failed === 0 ? 'asyncapi: all checks passed' : `asyncapi: ${failed} check(s) failed`);
process.exit(failed === 0 ? 0 : 1);
