// accord-asyncapi: prints the AsyncAPI document of Accord's event channels
// (common/asyncapi.h), or writes it to --out=PATH; --types lists the
// registered event types, one a line, for checks that want the registry
// without parsing C++.
//
//   build/bin/accord-asyncapi --out=docs/asyncapi.json

#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/asyncapi.h"
#include "common/event_types.h"

namespace {

constexpr char kUsage[] =
    "usage: accord-asyncapi [--out=PATH] [--types]\n"
    "  (no flag)   print the AsyncAPI 3.0.0 document (JSON) to stdout\n"
    "  --out=PATH  write it to PATH instead\n"
    "  --types     print the registered event types, one a line\n";

}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  bool list_types = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--out=") && arg.size() > 6) {
      out_path = std::string(arg.substr(6));
    } else if (arg == "--types") {
      list_types = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "accord-asyncapi: unknown argument " << arg
                << " (--help lists the flags)\n";
      return 2;
    }
  }
  std::string text;
  if (list_types) {
    for (const accord::EventTypeInfo& info : accord::EventTypes()) {
      text += info.type + "\n";
    }
  } else {
    text = accord::AsyncApiDocument();
  }
  if (out_path.empty()) {
    std::cout << text << std::flush;
    return std::cout ? 0 : 1;
  }
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::cerr << "accord-asyncapi: cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}
