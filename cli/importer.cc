#include "cli/importer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace accord::cli {
namespace {

absl::Status ImportFile(
    const RpcClient& client, const std::string& path, ImportResult& result,
    const std::function<void(const std::string&, const std::string&)>&
        on_call) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  // A JSON array parses as google.protobuf.ListValue; each entry is then
  // printed back to JSON for its own request type.
  google::protobuf::ListValue entries;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &entries);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a JSON array: ", parsed.message().as_string()));
  }
  for (int i = 0; i < entries.values_size(); ++i) {
    const auto& entry = entries.values(i);
    if (!entry.has_struct_value() || entry.struct_value().fields_size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, "[", i, "]: each entry is {\"methodName\": {request}}"));
    }
    const auto& [method, request] = *entry.struct_value().fields().begin();
    std::string request_json;
    (void)google::protobuf::util::MessageToJsonString(request, &request_json);
    absl::StatusOr<std::string> response =
        client.CallJson(method, request_json);
    if (!response.ok()) {
      // Where it failed goes in front; the code and details stay the
      // service's, so the caller prints them once.
      absl::Status located(response.status().code(),
                           absl::StrCat(path, "[", i, "] ", method, ": ",
                                        response.status().message()));
      response.status().ForEachPayload(
          [&located](absl::string_view url, const absl::Cord& payload) {
            located.SetPayload(url, payload);
          });
      return located;
    }
    ++result.calls;
    if (on_call) on_call(method, *response);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ImportPath(
    const RpcClient& client, const std::string& path, ImportResult& result,
    const std::function<void(const std::string&, const std::string&)>&
        on_call) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    return ImportFile(client, path, result, on_call);
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    const absl::Status status = ImportFile(client, file, result, on_call);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace accord::cli
