#ifndef ACCORD_COMMON_LIST_RESOURCES_H_
#define ACCORD_COMMON_LIST_RESOURCES_H_

// Runs a List query over a collection: the candidates from PlanList (an
// index, or every record), then filter, visibility, order and keyset
// pagination over the records read.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(ListPage<Agreement> page,
//       ListResources<Agreement>(store, codec, "agreements", query,
//                                &indexes));

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/secondary_index.h"
#include "common/status_macros.h"

namespace accord {

// Records come in the order of the candidates: by name, the listing stops
// at one match past the page; walking an ordered index, once every record
// up to the page's last sort key was read; otherwise it reads every
// candidate and sorts.
// `include`, when set, limits the listing to names it accepts (e.g. the
// milestones under agreements only, when walking the index of all
// milestones).
template <typename T>
absl::StatusOr<ListPage<T>> ListResources(
    RecordStore& store, const PageTokenCodec& codec,
    absl::string_view collection, const ListQuery& query,
    const SecondaryIndexes* indexes = nullptr,
    const std::function<bool(absl::string_view)>& include = nullptr,
    const std::function<bool(const T&)>& visible = nullptr) {
  ACCORD_ASSIGN_OR_RETURN(ListCandidates candidates,
                          PlanList(store.redis(), indexes, collection, query));
  using Match = std::pair<std::vector<std::string>, T>;
  std::vector<Match> matches;
  const auto by_query_order = [&query](const Match& a, const Match& b) {
    return query.Before(a.first, b.first);
  };
  const size_t page_size = static_cast<size_t>(query.page_size);
  // Whether the matches so far settle the page: kBySortKey walks settle it
  // once the first match past the page sorts strictly before the last key
  // walked (every entry with that key may not have been read yet).
  const auto page_settled = [&](const ListCandidates::Batch& batch) {
    if (matches.size() <= page_size) return false;
    switch (candidates.order()) {
      case ListCandidates::Order::kByName:
        return true;
      case ListCandidates::Order::kBySortKey:
        std::partial_sort(
            matches.begin(),
            matches.begin() + static_cast<std::ptrdiff_t>(page_size + 1),
            matches.end(), by_query_order);
        matches.resize(page_size + 1);
        return matches.back().first.front() != batch.last_sort_key;
      case ListCandidates::Order::kAny:
        return false;
    }
    return false;
  };
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(ListCandidates::Batch batch, candidates.Next());
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::optional<StoredRecord>> records,
                            store.GetMany(batch.names));
    for (std::optional<StoredRecord>& record : records) {
      // A name indexed but without a record cannot happen through
      // WritePath; skip rather than fail a whole listing on it.
      if (!record.has_value()) continue;
      if (record->deleted && !query.show_deleted) continue;
      if (include && !include(record->name)) continue;
      ACCORD_ASSIGN_OR_RETURN(T message, ParseRecord<T>(*record));
      if (!query.filter.Matches(message)) continue;
      if (visible && !visible(message)) continue;
      std::vector<std::string> key = query.CursorOf(message, record->name);
      if (!query.cursor.empty() && !query.Before(query.cursor, key)) continue;
      matches.emplace_back(std::move(key), std::move(message));
      if (candidates.order() == ListCandidates::Order::kByName &&
          matches.size() > page_size) {
        break;
      }
    }
    if (batch.last || page_settled(batch)) break;
  }
  if (candidates.order() != ListCandidates::Order::kByName) {
    std::sort(matches.begin(), matches.end(), by_query_order);
  }
  ListPage<T> page;
  page.plan = candidates.plan();
  const size_t take = std::min(matches.size(), page_size);
  for (size_t i = 0; i < take; ++i) {
    page.items.push_back(std::move(matches[i].second));
  }
  if (matches.size() > take) {
    page.next_page_token =
        codec.Encode(query.fingerprint, matches[take - 1].first);
  }
  return page;
}

}  // namespace accord

#endif  // ACCORD_COMMON_LIST_RESOURCES_H_
