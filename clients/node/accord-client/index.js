// accord-client: Accord's gRPC API for Node.js.
//
//   const { grpc, accord, rpc } = require('accord-client');
//   const agreements = new accord.agreement.v1.AgreementService(target, credentials);
//
// `accord` holds the service clients, loaded by @grpc/proto-loader from the
// .proto files in protos/ (fields keep their proto names, enums are
// strings, 64-bit integers strings). `rpc` is a protobufjs Root with
// google.rpc.Status, ErrorInfo, BadRequest and RetryInfo: decode the
// `grpc-status-details-bin` trailer of a failed call with
// rpc.lookupType('google.rpc.Status').decode(bytes). `grpc` is the
// @grpc/grpc-js these clients were made with (for Metadata, status codes).
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const protoDir = path.join(__dirname, 'protos');

const definition = protoLoader.loadSync(
  [
    'accord/institution/v1/institution_service.proto',
    'accord/agreement/v1/agreement_service.proto',
    'accord/notification/v1/notification_service.proto',
    'accord/auth/v1/auth.proto',
  ],
  {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });

const rpc = new protobuf.Root();
rpc.resolvePath = (origin, target) => path.join(protoDir, target);
rpc.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);

module.exports = {
  grpc,
  accord: grpc.loadPackageDefinition(definition).accord,
  rpc,
  version: require('./package.json').version,
};
