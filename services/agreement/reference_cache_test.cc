#include "services/agreement/reference_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "accord/institution/v1/institution.pb.h"

namespace accord::agreement {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAre;

events::v1::Event InstitutionEvent(const std::string& verb,
                                   const std::string& name,
                                   const std::string& country,
                                   bool deleted = false) {
  events::v1::Event event;
  event.set_type("accord.institution.v1." + verb);
  event.set_subject(name);
  institution::v1::Institution snapshot;
  snapshot.set_name(name);
  snapshot.set_country_code(country);
  if (deleted) snapshot.mutable_delete_time()->set_seconds(1);
  event.mutable_payload()->PackFrom(snapshot);
  return event;
}

// A cache that serves and knows institutions a (IR) and b (RU) and
// official o.
ReferenceCache& Filled(ReferenceCache& cache) {
  cache.Serve();
  cache.Fill(cache.generation(),
             {{"institutions/a", "IR"}, {"institutions/b", "RU"}},
             {"officials/o"});
  return cache;
}

TEST(ReferenceCacheTest, AnswersNothingUntilTheFeedIsSubscribed) {
  ReferenceCache cache;
  cache.Fill(cache.generation(), {{"institutions/a", "IR"}}, {});
  absl::flat_hash_map<std::string, std::string> countries;
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {}, countries));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.serving());
}

TEST(ReferenceCacheTest, AnswersOnlyWhenEveryNameIsKnown) {
  ReferenceCache cache;
  Filled(cache);
  absl::flat_hash_map<std::string, std::string> countries;
  EXPECT_TRUE(cache.Lookup({"institutions/a", "institutions/b"},
                           {"officials/o"}, countries));
  EXPECT_THAT(countries, UnorderedElementsAre(Pair("institutions/a", "IR"),
                                              Pair("institutions/b", "RU")));
  countries.clear();
  EXPECT_FALSE(
      cache.Lookup({"institutions/a", "institutions/c"}, {}, countries));
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {"officials/x"}, countries));
  EXPECT_TRUE(countries.empty()) << "a miss fills nothing";
}

TEST(ReferenceCacheTest, CountriesAreAnsweredForTheKnownNamesAlone) {
  ReferenceCache cache;
  absl::flat_hash_map<std::string, std::string> countries;
  EXPECT_THAT(cache.LookupCountries({"institutions/a"}, countries),
              ::testing::ElementsAre("institutions/a"))
      << "nothing from memory before the feed is subscribed";
  Filled(cache);
  EXPECT_THAT(
      cache.LookupCountries(
          {"institutions/a", "institutions/c", "institutions/b"}, countries),
      ::testing::ElementsAre("institutions/c"));
  EXPECT_THAT(countries, UnorderedElementsAre(Pair("institutions/a", "IR"),
                                              Pair("institutions/b", "RU")));
}

TEST(ReferenceCacheTest, AnAnswerOlderThanAnAppliedEventIsDropped) {
  ReferenceCache cache;
  cache.Serve();
  const uint64_t before_call = cache.generation();
  // While the institution service was being asked, a deletion arrived: the
  // answer may predate it.
  cache.Apply(InstitutionEvent("deleted", "institutions/a", "IR", true));
  cache.Fill(before_call, {{"institutions/a", "IR"}}, {});
  absl::flat_hash_map<std::string, std::string> countries;
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {}, countries));
}

TEST(ReferenceCacheTest, EventsUpdateAndDropEntriesButNeverAddThem) {
  ReferenceCache cache;
  Filled(cache);
  absl::flat_hash_map<std::string, std::string> countries;

  cache.Apply(InstitutionEvent("updated", "institutions/a", "FR"));
  ASSERT_TRUE(cache.Lookup({"institutions/a"}, {}, countries));
  EXPECT_EQ(countries["institutions/a"], "FR");

  cache.Apply(InstitutionEvent("deleted", "institutions/a", "FR", true));
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {}, countries));

  // A snapshot that says deleted drops the entry whatever the verb.
  cache.Apply(InstitutionEvent("updated", "institutions/b", "RU", true));
  EXPECT_FALSE(cache.Lookup({"institutions/b"}, {}, countries));

  // Only the institution service vouches for a name: not a created or
  // undeleted event.
  cache.Apply(InstitutionEvent("created", "institutions/new", "DE"));
  cache.Apply(InstitutionEvent("undeleted", "institutions/a", "FR"));
  EXPECT_FALSE(cache.Lookup({"institutions/new"}, {}, countries));
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {}, countries));
}

TEST(ReferenceCacheTest, OfficialsAreDroppedWhenDeleted) {
  ReferenceCache cache;
  Filled(cache);
  absl::flat_hash_map<std::string, std::string> countries;
  events::v1::Event updated;
  updated.set_type("accord.official.v1.updated");
  updated.set_subject("officials/o");
  cache.Apply(updated);
  EXPECT_TRUE(cache.Lookup({}, {"officials/o"}, countries));
  events::v1::Event deleted = updated;
  deleted.set_type("accord.official.v1.deleted");
  cache.Apply(deleted);
  EXPECT_FALSE(cache.Lookup({}, {"officials/o"}, countries));
}

TEST(ReferenceCacheTest, OtherEventsChangeNothing) {
  ReferenceCache cache;
  Filled(cache);
  const uint64_t generation = cache.generation();
  events::v1::Event event;
  event.set_type("accord.agreement.v1.recorded");
  event.set_subject("institutions/a");  // not an institution event
  cache.Apply(event);
  EXPECT_EQ(cache.generation(), generation);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ReferenceCacheTest, ALostSubscriptionEmptiesItUntilResubscribed) {
  ReferenceCache cache;
  Filled(cache);
  const uint64_t before_gap = cache.generation();
  cache.Suspend();
  absl::flat_hash_map<std::string, std::string> countries;
  EXPECT_FALSE(cache.serving());
  EXPECT_EQ(cache.size(), 0u);
  cache.Serve();
  EXPECT_EQ(cache.size(), 0u) << "nothing learnt before the gap survives";
  // An answer read before the gap is not taken after it either.
  cache.Fill(before_gap, {{"institutions/a", "IR"}}, {});
  EXPECT_FALSE(cache.Lookup({"institutions/a"}, {}, countries));
  cache.Fill(cache.generation(), {{"institutions/a", "IR"}}, {});
  EXPECT_TRUE(cache.Lookup({"institutions/a"}, {}, countries));
}

TEST(ReferenceCacheTest, ClearKeepsServing) {
  ReferenceCache cache;
  Filled(cache);
  cache.Clear();
  EXPECT_TRUE(cache.serving());
  EXPECT_EQ(cache.size(), 0u);
  cache.Fill(cache.generation(), {{"institutions/a", "IR"}}, {});
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace accord::agreement
