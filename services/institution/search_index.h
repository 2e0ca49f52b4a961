#ifndef ACCORD_SERVICES_INSTITUTION_SEARCH_INDEX_H_
#define ACCORD_SERVICES_INSTITUTION_SEARCH_INDEX_H_

// The search index of institutions: one field per live institution in the
// Redis hash redis_keys::kInstitutionSearchIndex, written with the record in
// the same atomic step, and read whole by SearchInstitutions.
//
// A field's value holds the search keys (common/text_fold.h) of each of the
// institution's names, one per line:
//   folded name 0 .. folded name n-1     (FoldForSearch)
//   kSearchKeysMarker
//   Latin key 0 .. Latin key n-1         ("" where equal to the folded name)
//   skeleton 0 .. skeleton n-1
// Values written before the Latin keys existed hold only the folded names;
// DecodeSearchEntry computes their keys on the fly and
// InstitutionServiceImpl::RebuildSearchIndex rewrites them at start-up. The
// folded names come first so that a replica still running the older
// version, which reads every line as a folded name, keeps finding them.
//
// Example:
//   plan.Write({"HSET", redis_keys::kInstitutionSearchIndex, name,
//   EncodeSearchEntry(names)}); DecodedSearchEntry entry;
//   DecodeSearchEntry(value, entry);
//   for (const SearchKeysView& keys : entry.names) SearchScore(query, keys);

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/text_fold.h"

namespace accord::institution {

// Separates the folded names from the other keys. Control characters never
// survive folding, so no folded name or query can equal or contain it.
inline constexpr char kSearchKeysMarker[] = "\x1e\x02";

// The index value of an institution with these names (raw, as stored).
std::string EncodeSearchEntry(const std::vector<std::string>& names);

// Whether `value` is in the current format (otherwise RebuildSearchIndex
// rewrites it).
bool IsCurrentSearchEntry(absl::string_view value);

struct DecodedSearchEntry {
  // The keys of each name, in the institution's order of names.
  std::vector<SearchKeysView> names;
  // Keys computed for a value in the older format; `names` points here.
  std::vector<SearchKeys> computed;
  // The value's lines (scratch).
  std::vector<absl::string_view> lines;
};

// Decodes `value` into `out` (reused between calls to spare allocations).
// `out.names` borrows from `value`, which must outlive it.
void DecodeSearchEntry(absl::string_view value, DecodedSearchEntry& out);

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_SEARCH_INDEX_H_
