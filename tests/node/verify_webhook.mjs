// Checks one captured Accord webhook request with independent libraries:
// the Standard Webhooks reference library verifies the signature, and the
// CloudEvents SDK parses the body as a structured-mode CloudEvent.
//
// Usage: node verify_webhook.mjs <capture file> <whsec_ secret>
// The capture file holds `name: value` header lines, an empty line, then
// the body exactly as received. Exits 0 and prints the parsed event's
// attributes when both checks pass; exits 1 with the reason otherwise.
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { HTTP } from 'cloudevents';

function fail(message) {
  console.error(`verify_webhook: ${message}`);
  process.exit(1);
}

const [capturePath, secret] = process.argv.slice(2);
if (!capturePath || !secret) fail('usage: verify_webhook.mjs <capture> <secret>');

const raw = readFileSync(capturePath, 'utf8');
const split = raw.indexOf('\n\n');
if (split < 0) fail('capture has no blank line between headers and body');
const headers = {};
for (const line of raw.slice(0, split).split('\n')) {
  const colon = line.indexOf(':');
  if (colon > 0) {
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
}
const body = raw.slice(split + 2);

try {
  new Webhook(secret).verify(body, headers);
} catch (error) {
  fail(`signature does not verify: ${error.message}`);
}

let event;
try {
  event = HTTP.toEvent({ headers, body });
} catch (error) {
  fail(`body is not a CloudEvent: ${error.message}`);
}
if (Array.isArray(event)) fail('expected one event, got a batch');
if (event.specversion !== '1.0') fail(`specversion ${event.specversion}`);
if (event.id !== headers['webhook-id']) fail('event id differs from webhook-id');
if (!event.position) fail('no position extension');
if (typeof event.data !== 'object' || event.data === null) fail('data is not a JSON object');

console.log(JSON.stringify({
  id: event.id,
  type: event.type,
  source: event.source,
  subject: event.subject,
  position: event.position,
  dataName: event.data.name,
}));
