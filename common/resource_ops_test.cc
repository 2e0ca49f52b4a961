#include "common/resource_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "accord/institution/v1/institution.pb.h"

namespace accord {
namespace {

using institution::v1::Institution;
using ::testing::ElementsAre;

// Traits that pass every check and read nothing from Redis.
ResourceTraits<Institution> WorkingTraits() {
  ResourceTraits<Institution> traits;
  traits.collection = "institutions";
  traits.singular = "institution";
  traits.event_prefix = "accord.institution.v1";
  traits.source = "//accord/institution";
  traits.validate = [](const Institution&) { return absl::OkStatus(); };
  traits.plan_change = [](const Institution*, const Institution*, WritePlan&) {
    return absl::OkStatus();
  };
  traits.concerns = [](const Institution&) -> absl::StatusOr<Concerned> {
    return Concerned();
  };
  traits.countries = [](const std::vector<std::string>&)
      -> absl::StatusOr<absl::flat_hash_map<std::string, std::string>> {
    return absl::flat_hash_map<std::string, std::string>();
  };
  return traits;
}

class ResourceOpsTest : public ::testing::Test {
 protected:
  static RedisOptions Nowhere() {
    // Nothing listens on port 1: a test that reached Redis would get
    // UNAVAILABLE, not the error it expects.
    RedisOptions options;
    options.url.port = 1;
    return options;
  }

  RedisClient redis_{Nowhere()};
  RecordStore store_{redis_};
  WritePath write_path_{redis_};
};

using ResourceOpsDeathTest = ResourceOpsTest;

TEST_F(ResourceOpsDeathTest, RefusesTraitsThatNameNobody) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ResourceTraits<Institution> no_concerns = WorkingTraits();
  no_concerns.concerns = nullptr;
  EXPECT_DEATH(ResourceOps<Institution>(store_, write_path_, no_concerns),
               "institutions: no `concerns` hook");
  ResourceTraits<Institution> no_countries = WorkingTraits();
  no_countries.countries = nullptr;
  EXPECT_DEATH(ResourceOps<Institution>(store_, write_path_, no_countries),
               "no `countries` resolver");
}

TEST_F(ResourceOpsDeathTest, RefusesAnUnregisteredStandardEventType) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ResourceTraits<Institution> traits = WorkingTraits();
  traits.created_event_type = "accord.institution.v1.founded";
  EXPECT_DEATH(ResourceOps<Institution>(store_, write_path_, traits),
               "accord.institution.v1.founded is not a registered event type");
}

TEST_F(ResourceOpsTest, InternalEventsNeedNoConcerns) {
  ResourceTraits<Institution> traits = WorkingTraits();
  traits.event_prefix = "accord.subscription.v1";
  traits.concerns = nullptr;
  traits.countries = nullptr;
  ResourceOps<Institution> ops(store_, write_path_, traits);
  EXPECT_EQ(ops.traits().event_prefix, "accord.subscription.v1");
}

TEST_F(ResourceOpsTest, AnUnregisteredCustomEventIsAnInternalError) {
  ResourceOps<Institution> ops(store_, write_path_, WorkingTraits());
  Institution before;
  before.set_name("institutions/a");
  const absl::StatusOr<Institution> result =
      ops.CommitCustom(before, "etag", "renamed", "", ChangeContext(), before);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal)
      << result.status();
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("accord.institution.v1.renamed"));
}

TEST(ConcernedTest, NamesEveryInstitutionOnceWithTheCountriesFound) {
  Concerned concerned;
  concerned.AddInstitution("institutions/branch", "KZ");
  concerned.AddInstitutions(std::vector<std::string>{
      "institutions/msu", "", "institutions/gone", "institutions/msu"});
  concerned.AddInstitution("institutions/ru-too");
  concerned.AddCountry("BR");
  concerned.AddCountry("KZ");
  EXPECT_THAT(concerned.ToResolve(),
              ElementsAre("institutions/msu", "institutions/gone",
                          "institutions/ru-too"))
      << "a country the record states is not looked up";
  events::v1::Event event;
  event.add_institutions("institutions/stale");
  event.add_country_codes("FR");
  concerned.Fill({{"institutions/msu", "RU"},
                  {"institutions/ru-too", "RU"},
                  {"institutions/branch", "FR"}},
                 event);
  EXPECT_THAT(event.institutions(),
              ElementsAre("institutions/branch", "institutions/msu",
                          "institutions/gone", "institutions/ru-too"))
      << "replaced, not added to; a deleted one is still named";
  EXPECT_THAT(event.country_codes(), ElementsAre("KZ", "RU", "BR"))
      << "the stated country wins; none for what was not found";
}

}  // namespace
}  // namespace accord
