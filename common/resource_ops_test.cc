#include "common/resource_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "accord/institution/v1/institution.pb.h"

namespace accord {
namespace {

using institution::v1::Institution;
using ::testing::ElementsAre;

// Hooks that pass every check and read nothing from Redis.
class TestHooks final : public StoreHooks<Institution> {
 public:
  std::string prefix = "accord.institution.v1";
  std::string created_type;
  bool concerns = true;

  std::string event_prefix() const override { return prefix; }
  std::string source() const override { return "//accord/institution"; }
  std::string created_event_type() const override { return created_type; }
  bool has_concerns() const override { return concerns; }
  absl::Status Validate(const Institution&) const override {
    return absl::OkStatus();
  }
  absl::Status PlanChange(const Institution*, const Institution*,
                          WritePlan&) const override {
    return absl::OkStatus();
  }
};

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

TEST_F(ResourceOpsDeathTest, RefusesHooksThatNameNobody) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TestHooks no_concerns;
  no_concerns.concerns = false;
  EXPECT_DEATH(ResourceOps<Institution>(store_, write_path_, no_concerns),
               "institutions: no `Concerns` hook");
}

TEST_F(ResourceOpsDeathTest, RefusesAnUnregisteredStandardEventType) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TestHooks hooks;
  hooks.created_type = "accord.institution.v1.founded";
  EXPECT_DEATH(ResourceOps<Institution>(store_, write_path_, hooks),
               "accord.institution.v1.founded is not a registered event type");
}

TEST_F(ResourceOpsTest, InternalEventsNeedNoConcerns) {
  TestHooks hooks;
  hooks.prefix = "accord.subscription.v1";
  hooks.concerns = false;
  ResourceOps<Institution> ops(store_, write_path_, hooks);
  EXPECT_EQ(ops.schema().collection, "institutions");
}

TEST_F(ResourceOpsTest, AnUnregisteredCustomEventIsAnInternalError) {
  TestHooks hooks;
  ResourceOps<Institution> ops(store_, write_path_, hooks);
  Institution before;
  before.set_name("institutions/a");
  const absl::StatusOr<Institution> result = ops.CommitCustom(
      before, "etag", "renamed", "", ChangeContext(), before, nullptr);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal)
      << result.status();
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("accord.institution.v1.renamed"));
}

TEST(ResourceSchemaTest, ReadsTheResourceAnnotations) {
  const ResourceSchema& schema = SchemaOf<Institution>();
  EXPECT_EQ(schema.collection, "institutions");
  EXPECT_EQ(schema.singular, "institution");
  EXPECT_THAT(schema.writable_fields,
              ElementsAre("names", "kind", "country_code", "parent",
                          "relations", "external_ids", "website_uri", "state"));
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
