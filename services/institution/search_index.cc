#include "services/institution/search_index.h"

#include <cstddef>

namespace accord::institution {
namespace {

void SplitLines(absl::string_view value, std::vector<absl::string_view>& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    const size_t end = value.find('\n', start);
    if (end == absl::string_view::npos) {
      out.push_back(value.substr(start));
      return;
    }
    out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
}

// The number of names of a current-format value split into `lines`, or -1
// when it is in the older format (or damaged).
int CurrentNameCount(const std::vector<absl::string_view>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == kSearchKeysMarker) {
      return lines.size() == 3 * i + 1 ? static_cast<int>(i) : -1;
    }
  }
  return -1;
}

}  // namespace

std::string EncodeSearchEntry(const std::vector<std::string>& names) {
  std::vector<SearchKeys> keys;
  keys.reserve(names.size());
  for (const std::string& name : names) keys.push_back(MakeSearchKeys(name));
  std::string out;
  for (const SearchKeys& key : keys) {
    out.append(key.folded);
    out.push_back('\n');
  }
  out.append(kSearchKeysMarker);
  // Most names are in Latin script already: an empty line says "the same".
  for (const SearchKeys& key : keys) {
    out.push_back('\n');
    if (key.latin != key.folded) out.append(key.latin);
  }
  for (const SearchKeys& key : keys) {
    out.push_back('\n');
    out.append(key.skeleton);
  }
  return out;
}

bool IsCurrentSearchEntry(absl::string_view value) {
  std::vector<absl::string_view> lines;
  SplitLines(value, lines);
  return CurrentNameCount(lines) >= 0;
}

void DecodeSearchEntry(absl::string_view value, DecodedSearchEntry& out) {
  out.names.clear();
  out.computed.clear();
  std::vector<absl::string_view>& lines = out.lines;
  SplitLines(value, lines);
  const int count = CurrentNameCount(lines);
  if (count >= 0) {
    const size_t n = static_cast<size_t>(count);
    for (size_t i = 0; i < n; ++i) {
      const absl::string_view latin = lines[n + 1 + i];
      out.names.push_back(
          {lines[i], latin.empty() ? lines[i] : latin, lines[2 * n + 1 + i]});
    }
    return;
  }
  // Older format: one folded name per line, folded by an older
  // FoldForSearch; folding again brings it up to date.
  out.computed.reserve(lines.size());
  for (absl::string_view line : lines) {
    out.computed.push_back(MakeSearchKeys(line));
  }
  for (const SearchKeys& keys : out.computed) out.names.push_back(ViewOf(keys));
}

}  // namespace accord::institution
