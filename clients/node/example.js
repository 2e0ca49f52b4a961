// Accord client example in Node.js: watches for new agreements, creates two
// institutions and an MOU between them, reads the MOU back, provokes one
// error (the same MOU again) and prints its google.rpc details, and prints
// the MOU's `accord.agreement.v1.recorded` event when the watch stream
// delivers it. Exits 0 once the event arrived, 1 on an error or after 15
// seconds.
//
// Targets come from ACCORD_INSTITUTION_TARGET, ACCORD_AGREEMENT_TARGET and
// ACCORD_NOTIFICATION_TARGET; the bearer token from ACCORD_TOKEN. The
// service clients and the google.rpc types come from the accord-client npm
// package (clients/node/package.sh builds it): install its tarball where
// this file is run from.
'use strict';

const { grpc, accord, rpc } = require('accord-client');

const RECORDED = 'accord.agreement.v1.recorded';
const TIMEOUT_MS = 15000;
const RpcStatus = rpc.lookupType('google.rpc.Status');

// Every call carries the bearer token (`authorization: Bearer <key>.<secret>`).
function authorization() {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${process.env.ACCORD_TOKEN ?? ''}`);
  return metadata;
}

// Prints a failed call's code, message and google.rpc details, which travel
// as a serialized google.rpc.Status in the `grpc-status-details-bin` trailer.
function printError(error) {
  const codeName = Object.keys(grpc.status).find((name) => grpc.status[name] === error.code);
  console.log(`error ${codeName ?? error.code}: ${error.details ?? error.message}`);
  const [encoded] = error.metadata?.get('grpc-status-details-bin') ?? [];
  if (!encoded) return;
  for (const any of RpcStatus.decode(encoded).details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const type = rpc.lookup(typeName);
    const detail = type ? type.decode(any.value) : null;
    if (typeName === 'google.rpc.ErrorInfo') {
      console.log(`detail ErrorInfo reason=${detail.reason} domain=${detail.domain}`);
    } else if (typeName === 'google.rpc.BadRequest') {
      for (const violation of detail.field_violations ?? detail.fieldViolations) {
        console.log(`detail BadRequest field=${violation.field}: ${violation.description}`);
      }
    } else if (typeName === 'google.rpc.RetryInfo') {
      const delay = detail.retry_delay ?? detail.retryDelay;
      console.log(`detail RetryInfo retry_delay=${(Number(delay.seconds) + delay.nanos / 1e9).toFixed(3)}s`);
    } else {
      console.log(`detail ${typeName}`);
    }
  }
}

function target(variable, fallback) {
  return process.env[variable] || fallback;
}

function fail(what, error) {
  console.error(`node example: ${what} failed`);
  printError(error);
  process.exit(1);
}

// Promisifies one unary call with a 5-second deadline.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, authorization(), { deadline: Date.now() + 5000 }, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

async function createInstitution(client, id, text, countryCode) {
  const institution = await call(client, 'CreateInstitution', {
    institution_id: id,
    institution: {
      names: [{ text, type: 'TYPE_DISPLAY', language_code: 'en' }],
      kind: 'KIND_UNIVERSITY',
      country_code: countryCode,
    },
  });
  return institution.name;
}

async function recordMou(institutions, agreements) {
  // 2. Two institutions in different countries, with ids unique per run.
  const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const first = await createInstitution(institutions, `node-example-ir-${suffix}`,
    'Node Example University (Iran)', 'IR');
  const second = await createInstitution(institutions, `node-example-ru-${suffix}`,
    'Node Example University (Russia)', 'RU');
  console.log('created', first, 'and', second);
  // 3. A memorandum of understanding between them, read back.
  const mou = {
    agreement_id: `node-example-mou-${suffix}`,
    agreement: {
      titles: [{ text: 'Memorandum of understanding on scientific cooperation', language_code: 'en' }],
      kind: 'KIND_MEMORANDUM_OF_UNDERSTANDING',
      parties: [first, second],
      signing_date: '2025-04-25',
    },
  };
  const agreement = await call(agreements, 'CreateAgreement', mou);
  console.log('created', agreement.name);
  const read = await call(agreements, 'GetAgreement', { name: agreement.name });
  console.log(`read ${read.name} kind=${read.kind} parties=${read.parties.join(',')}`);
  // 4. The same MOU again: ALREADY_EXISTS, whose details give the reason
  // (ErrorInfo) and the field at fault (BadRequest).
  try {
    await call(agreements, 'CreateAgreement', mou);
    throw new Error('the second MOU was accepted');
  } catch (error) {
    if (error.code === undefined) throw error;
    printError(error);
  }
  return agreement.name;
}

function main() {
  const credentials = grpc.credentials.createInsecure();
  const institutions = new accord.institution.v1.InstitutionService(
    target('ACCORD_INSTITUTION_TARGET', '127.0.0.1:50051'), credentials);
  const agreements = new accord.agreement.v1.AgreementService(
    target('ACCORD_AGREEMENT_TARGET', '127.0.0.1:50052'), credentials);
  const notifications = new accord.notification.v1.NotificationService(
    target('ACCORD_NOTIFICATION_TARGET', '127.0.0.1:50053'), credentials);

  // 1. Watch new agreements from now on, with a heartbeat every 200 ms.
  const stream = notifications.WatchEvents({
    inline_selector: { event_types: [RECORDED] },
    start_position: 'now',
    heartbeat_interval: { seconds: 0, nanos: 200000000 },
  }, authorization(), { deadline: Date.now() + TIMEOUT_MS });

  let anchored = false;
  let agreementName = null;
  const pending = [];  // events that arrive before CreateAgreement returns
  const check = (event) => {
    if (event.type === RECORDED && event.subject === agreementName) {
      console.log('event', event.position, event.type, event.subject);
      stream.cancel();
      process.exit(0);
    }
  };
  stream.on('data', (message) => {
    if (!anchored) {
      // The first message (`started`) says the watch is registered: every
      // event recorded after its position will be delivered.
      anchored = true;
      console.log('watching from position', message.started?.position);
      recordMou(institutions, agreements).then((name) => {
        agreementName = name;
        pending.splice(0).forEach(check);
      }, (error) => fail('recording the MOU', error));
      return;
    }
    if (message.kind !== 'event') return;
    if (agreementName === null) pending.push(message.event);
    else check(message.event);
  });
  stream.on('error', (error) => fail('WatchEvents', error));
  stream.on('end', () => fail('WatchEvents', new Error('the stream ended before the event')));
}

main();
