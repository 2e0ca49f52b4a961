#ifndef ACCORD_CLI_IMPORTER_H_
#define ACCORD_CLI_IMPORTER_H_

// Loads a data set: JSON files, each an array of calls in the protobuf JSON
// mapping, `[{"createInstitution": {...}}, {"recordAgreementAction": {...}}]`,
// applied in file-name order and, within a file, in array order. Requests
// carry request_ids, so importing the same set twice changes nothing.
//
// Example:
//   ImportResult result;
//   ACCORD_RETURN_IF_ERROR(ImportPath(client, "examples/seed", result));

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "cli/rpc_client.h"

namespace accord::cli {

struct ImportResult {
  int calls = 0;
};

// Imports a file, or every *.json file of a folder in name order. Stops at
// the first failing call, naming the file, the entry and the error.
// `on_call` (optional) sees each method name and its JSON response.
absl::Status ImportPath(
    const RpcClient& client, const std::string& path, ImportResult& result,
    const std::function<void(const std::string& method,
                             const std::string& response_json)>& on_call =
        nullptr);

}  // namespace accord::cli

#endif  // ACCORD_CLI_IMPORTER_H_
