// The secondary indexes of agreements (common/secondary_index.h) against
// the real services with authentication on:
//   - every indexed filter, range and order_by answers exactly what the
//     records say, page by page, for an admin and for a party's editor
//     (restricted agreements), with and without deleted ones; the oracle
//     is every record read by a plain scan, filtered and sorted here;
//   - the response names the index it used (`accord-list-plan`);
//   - the indexes stay consistent with the records under concurrent
//     creates, updates, deletes, undeletes and recorded actions (a checker
//     compares every index with a full scan);
//   - agreements written before the indexes existed are added to them when
//     the service starts, and the indexes are not used until then.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/config.h"
#include "common/filter.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/secondary_index.h"
#include "services/agreement/agreement_resource.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord::agreement {
namespace {

using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using v1::Agreement;
using v1::AgreementAction;

struct Party {
  std::string name;
  std::string country;
};
const std::vector<Party>& Parties() {
  static const auto* parties =
      new std::vector<Party>{{"institutions/tehran-univ", "IR"},
                             {"institutions/moscow-univ", "RU"},
                             {"institutions/ankara-univ", "TR"},
                             {"institutions/cape-town-univ", "ZA"},
                             {"institutions/beijing-univ", "CN"},
                             {"institutions/delhi-univ", "IN"}};
  return *parties;
}
constexpr const char* kAreas[] = {"health", "medical-research",
                                  "digital-health", "cell-and-gene-therapy",
                                  "communicable-diseases"};
// Full dates, months and years, with repeats so that order_by has ties.
constexpr const char* kDates[] = {
    "",           "2019",       "2020-05",    "2020-05-17", "2021",
    "2021-01-01", "2021-03",    "2021-03-09", "2021-12-31", "2022-07-04",
    "2023",       "2023-06-01", "2023-06-02", "2024-02-29", "2025-11-30"};
constexpr Agreement::Kind kKinds[] = {
    Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, Agreement::KIND_TREATY,
    Agreement::KIND_PROTOCOL, Agreement::KIND_AGREEMENT,
    Agreement::KIND_JOINT_STATEMENT};

// The names in a listing, and the plan its first page reported.
struct Listing {
  std::vector<std::string> names;
  std::string plan;
  std::string error;
};

class ListIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("list-index");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    tehran_editor_ = credentials.Add("tehran-editor", auth::v1::ROLE_EDITOR,
                                     Parties()[0].name);
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    credentials_flag_ = credentials.Write(dir_);
    std::ofstream(dir_ + "/agreement-token") << service_token;

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag_});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(), AgreementFlags());
    stub_ = v1::AgreementService::NewStub(agreement_->Channel());
    auto institutions =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    for (const Party& party : Parties()) {
      institution::v1::CreateInstitutionRequest request;
      request.set_institution_id(party.name.substr(party.name.find('/') + 1));
      auto* display = request.mutable_institution()->add_names();
      display->set_text(absl::StrCat("Institution ", request.institution_id()));
      display->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
      request.mutable_institution()->set_kind(
          institution::v1::Institution::KIND_UNIVERSITY);
      request.mutable_institution()->set_country_code(party.country);
      institution::v1::Institution created;
      const grpc::Status status = institutions->CreateInstitution(
          Context(admin_).get(), request, &created);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(redis_->url());
    ASSERT_TRUE(url.ok());
    RedisOptions options;
    options.url = *url;
    redis_client_ = std::make_unique<RedisClient>(options);
    store_ = std::make_unique<RecordStore>(*redis_client_);
  }

  std::vector<std::string> AgreementFlags() const {
    // --rate_limit loosened: the equivalence test makes some 10,000 List
    // calls as one admin, beyond the per-principal default of 200/s.
    return {
        credentials_flag_, "--rate_limit=1000000",
        absl::StrCat("--institution_target=", institution_->address()),
        absl::StrCat("--institution_token_file=", dir_, "/agreement-token")};
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  // An agreement made from `seed`: its kind, parties, areas, signing date,
  // signatures, parent and restriction all vary with it.
  Agreement MakeAgreement(uint32_t seed) const {
    std::mt19937 random(seed);
    Agreement agreement;
    agreement.add_titles()->set_text(
        absl::StrCat("Agreement on research cooperation no. ", seed));
    agreement.set_kind(kKinds[random() % std::size(kKinds)]);
    const size_t first = random() % Parties().size();
    const size_t party_count = 2 + random() % 2;
    for (size_t i = 0; i < party_count; ++i) {
      agreement.add_parties(Parties()[(first + i * 2) % Parties().size()].name);
    }
    const size_t areas = random() % 3;
    for (size_t i = 0; i < areas; ++i) {
      const std::string area = kAreas[random() % std::size(kAreas)];
      if (std::find(agreement.cooperation_areas().begin(),
                    agreement.cooperation_areas().end(),
                    area) == agreement.cooperation_areas().end()) {
        agreement.add_cooperation_areas(area);
      }
    }
    agreement.set_signing_date(kDates[random() % std::size(kDates)]);
    // Some signed by every party (state SIGNED), some by one, some by none.
    const uint32_t signatures = random() % 3;
    if (signatures > 0 && !agreement.signing_date().empty() &&
        agreement.signing_date().size() == 10) {
      for (int i = 0; i < agreement.parties_size(); ++i) {
        if (signatures == 1 && i > 0) break;
        AgreementAction& signature = *agreement.add_actions();
        signature.set_kind(AgreementAction::KIND_SIGNATURE);
        signature.set_party(agreement.parties(i));
        signature.set_action_date(agreement.signing_date());
      }
    }
    if (!created_.empty() && random() % 4 == 0) {
      agreement.set_parent_agreement(created_[random() % created_.size()]);
    }
    agreement.set_restricted(random() % 7 == 0);
    return agreement;
  }

  grpc::Status Create(const Agreement& agreement, Agreement* created) {
    v1::CreateAgreementRequest request;
    *request.mutable_agreement() = agreement;
    return stub_->CreateAgreement(Context(admin_).get(), request, created);
  }

  // Creates `count` agreements and soft-deletes every fifth.
  void Load(int count) {
    for (int i = 0; i < count; ++i) {
      Agreement created;
      const grpc::Status status =
          Create(MakeAgreement(static_cast<uint32_t>(i) + 1), &created);
      ASSERT_TRUE(status.ok()) << status.error_message();
      // A restricted parent may only be named by restricted children.
      if (!created.restricted()) created_.push_back(created.name());
      all_.push_back(created.name());
    }
    for (size_t i = 0; i < all_.size(); i += 5) {
      v1::DeleteAgreementRequest request;
      request.set_name(all_[i]);
      Agreement deleted;
      ASSERT_TRUE(
          stub_->DeleteAgreement(Context(admin_).get(), request, &deleted)
              .ok());
    }
  }

  // Every page of a listing.
  Listing ListAll(const std::string& filter, const std::string& order_by,
                  int page_size, bool show_deleted, const std::string& token) {
    Listing listing;
    v1::ListAgreementsRequest request;
    request.set_filter(filter);
    request.set_order_by(order_by);
    request.set_page_size(page_size);
    request.set_show_deleted(show_deleted);
    for (int page = 0; page < 1000; ++page) {
      auto context = Context(token);
      v1::ListAgreementsResponse response;
      const grpc::Status status =
          stub_->ListAgreements(context.get(), request, &response);
      if (!status.ok()) {
        listing.error = status.error_message();
        return listing;
      }
      if (page == 0) {
        const auto& metadata = context->GetServerInitialMetadata();
        const auto plan = metadata.find("accord-list-plan");
        if (plan != metadata.end()) {
          listing.plan.assign(plan->second.data(), plan->second.size());
        }
      }
      for (const Agreement& agreement : response.agreements()) {
        listing.names.push_back(agreement.name());
      }
      if (response.next_page_token().empty()) return listing;
      request.set_page_token(response.next_page_token());
    }
    listing.error = "more than 1000 pages";
    return listing;
  }

  // What the listing must answer, worked out here from every record (read
  // by a plain scan) with the same filter and order semantics.
  std::vector<std::string> Expected(const std::string& filter,
                                    const std::string& order_by,
                                    bool show_deleted,
                                    const std::string& token) {
    v1::ListAgreementsRequest request;
    request.set_page_size(1000);
    request.set_show_deleted(true);
    std::vector<Agreement> everything;
    while (true) {
      v1::ListAgreementsResponse response;
      const grpc::Status status =
          stub_->ListAgreements(Context(token).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) return {};
      everything.insert(everything.end(), response.agreements().begin(),
                        response.agreements().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    absl::StatusOr<Filter> parsed =
        Filter::Parse(filter, *Agreement::descriptor());
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    absl::StatusOr<std::vector<OrderField>> order =
        ParseOrderBy(order_by, *Agreement::descriptor(),
                     {"name", "create_time", "update_time", "signing_date",
                      "kind", "state"});
    EXPECT_TRUE(order.ok()) << order.status();
    ListQuery query;
    query.order = *order;
    std::vector<std::pair<std::vector<std::string>, std::string>> keyed;
    for (const Agreement& agreement : everything) {
      if (agreement.has_delete_time() && !show_deleted) continue;
      if (!parsed->Matches(agreement)) continue;
      keyed.emplace_back(query.CursorOf(agreement, agreement.name()),
                         agreement.name());
    }
    std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      return query.Before(a.first, b.first);
    });
    std::vector<std::string> names;
    for (auto& [key, name] : keyed) names.push_back(std::move(name));
    return names;
  }

  // The differences between the indexes and the records.
  std::vector<std::string> IndexDifferences() {
    const SecondaryIndexes indexes("agreements", *Agreement::descriptor(),
                                   AgreementIndexedFields());
    absl::StatusOr<std::vector<std::string>> differences =
        indexes.Verify(*store_, Agreement::default_instance());
    EXPECT_TRUE(differences.ok()) << differences.status();
    return differences.ok() ? *differences : std::vector<std::string>{"?"};
  }

  std::string dir_;
  std::string credentials_flag_;
  std::string admin_;
  std::string tehran_editor_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<v1::AgreementService::Stub> stub_;
  std::unique_ptr<RedisClient> redis_client_;
  std::unique_ptr<RecordStore> store_;
  std::vector<std::string> created_;  // live, unrestricted: parents
  std::vector<std::string> all_;
};

struct FilterCase {
  std::string filter;
  std::string plan_prefix;  // of the plan when ordered by name
};

TEST_F(ListIndexTest, EveryIndexedQueryAnswersWhatTheRecordsSay) {
  ASSERT_NO_FATAL_FAILURE(Load(150));
  const std::string tehran = Parties()[0].name;
  const std::string parent = created_.front();
  const std::vector<FilterCase> cases = {
      {"kind = KIND_TREATY", "index:kind"},
      {"kind = KIND_CONTRACT", "index:kind:empty"},
      {"state = STATE_SIGNED", "index:"},
      {absl::StrCat("parties: \"", tehran, "\""), "index:"},
      {"party_country_codes: \"ZA\"", "index:"},
      {"cooperation_areas: \"health\"", "index:"},
      {absl::StrCat("parent_agreement = \"", parent, "\""), "index:"},
      {"signing_date >= \"2021-01-01\" AND signing_date < \"2022\"",
       "index:signing_date"},
      {"signing_date = \"2021\"", "index:signing_date"},
      {"signing_date > \"2023-06-01\"", "index:signing_date"},
      {"signing_date > \"2030\"", "index:signing_date:empty"},
      {"signing_date > \"2023\" AND signing_date < \"2021\"",
       "index:signing_date:empty"},
      {"kind = KIND_MEMORANDUM_OF_UNDERSTANDING AND party_country_codes: "
       "\"IR\"",
       "index:"},
      {"kind = KIND_PROTOCOL AND cooperation_areas: \"health\" AND "
       "signing_date >= \"2020\"",
       "index:"},
      {"kind = KIND_AGREEMENT AND titles.text: \"research\"", "index:kind"},
      {"party_country_codes: \"IN\" state = STATE_PENDING_SIGNATURE", "index:"},
      // Not indexable: OR, NOT, substring tests.
      {"kind = KIND_TREATY OR kind = KIND_PROTOCOL", "scan"},
      {"NOT kind = KIND_TREATY", "scan"},
      {"titles.text: \"cooperation no. 1\"", "scan"},
  };
  const std::vector<std::string> orders = {
      "", "signing_date", "signing_date desc", "create_time desc", "kind"};
  int compared = 0;
  for (const FilterCase& filter_case : cases) {
    for (const std::string& order_by : orders) {
      for (bool show_deleted : {false, true}) {
        for (const std::string* token : {&admin_, &tehran_editor_}) {
          const std::vector<std::string> expected =
              Expected(filter_case.filter, order_by, show_deleted, *token);
          for (int page_size : {7, 1000}) {
            const Listing listing = ListAll(filter_case.filter, order_by,
                                            page_size, show_deleted, *token);
            SCOPED_TRACE(absl::StrCat(filter_case.filter, " | order_by ",
                                      order_by, " | show_deleted ",
                                      show_deleted, " | page_size ", page_size,
                                      " | plan ", listing.plan));
            ASSERT_EQ(listing.error, "");
            EXPECT_EQ(listing.names, expected);
            ++compared;
            if (order_by.empty()) {
              EXPECT_TRUE(
                  absl::StartsWith(listing.plan, filter_case.plan_prefix));
            } else if (absl::StartsWith(order_by, "signing_date") &&
                       filter_case.plan_prefix == "scan") {
              EXPECT_EQ(listing.plan, "index:signing_date:order");
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(compared, static_cast<int>(cases.size() * orders.size() * 8));
  EXPECT_THAT(IndexDifferences(), ::testing::IsEmpty());
}

TEST_F(ListIndexTest, IndexesMatchTheRecordsAfterConcurrentWrites) {
  ASSERT_NO_FATAL_FAILURE(Load(40));
  std::atomic<int> accepted{0};
  std::atomic<uint32_t> next_seed{1000};
  const auto writer = [&](uint32_t thread_seed) {
    std::mt19937 random(thread_seed);
    for (int op = 0; op < 60; ++op) {
      const std::string target = all_[random() % all_.size()];
      Agreement result;
      grpc::Status status;
      switch (random() % 5) {
        case 0: {  // create
          Agreement agreement = MakeAgreement(next_seed++);
          agreement.clear_parent_agreement();
          status = Create(agreement, &result);
          break;
        }
        case 1: {  // update what the indexes hold
          v1::UpdateAgreementRequest request;
          Agreement shape = MakeAgreement(next_seed++);
          Agreement& patch = *request.mutable_agreement();
          patch.set_name(target);
          patch.set_kind(shape.kind());
          *patch.mutable_cooperation_areas() = shape.cooperation_areas();
          patch.set_signing_date(shape.signing_date());
          for (const char* path :
               {"kind", "cooperation_areas", "signing_date"}) {
            request.mutable_update_mask()->add_paths(path);
          }
          status =
              stub_->UpdateAgreement(Context(admin_).get(), request, &result);
          break;
        }
        case 2: {
          v1::DeleteAgreementRequest request;
          request.set_name(target);
          status =
              stub_->DeleteAgreement(Context(admin_).get(), request, &result);
          break;
        }
        case 3: {
          v1::UndeleteAgreementRequest request;
          request.set_name(target);
          status =
              stub_->UndeleteAgreement(Context(admin_).get(), request, &result);
          break;
        }
        default: {  // a signature changes the state
          v1::GetAgreementRequest get;
          get.set_name(target);
          Agreement current;
          if (!stub_->GetAgreement(Context(admin_).get(), get, &current).ok()) {
            continue;
          }
          v1::RecordAgreementActionRequest request;
          request.set_agreement(target);
          AgreementAction& action = *request.mutable_action();
          action.set_kind(AgreementAction::KIND_SIGNATURE);
          action.set_party(current.parties(
              static_cast<int>(random() % current.parties_size())));
          action.set_action_date("2024-05-01");
          status = stub_->RecordAgreementAction(Context(admin_).get(), request,
                                                &result);
          break;
        }
      }
      // Refusals (undeleting a live record, a second signature, a
      // concurrent change) are expected; what matters is the indexes.
      if (status.ok()) ++accepted;
    }
  };
  std::vector<std::thread> writers;
  for (uint32_t t = 0; t < 4; ++t) writers.emplace_back(writer, 77 + t);
  for (std::thread& thread : writers) thread.join();
  EXPECT_GT(accepted.load(), 100);
  EXPECT_THAT(IndexDifferences(), ::testing::IsEmpty());
  for (const std::string& filter :
       {std::string("kind = KIND_TREATY"),
        std::string("cooperation_areas: \"health\""),
        std::string("state = STATE_SIGNED"),
        std::string("signing_date >= \"2021\"")}) {
    for (const std::string& order_by :
         {std::string(""), std::string("signing_date desc")}) {
      const Listing listing = ListAll(filter, order_by, 9, false, admin_);
      ASSERT_EQ(listing.error, "");
      EXPECT_EQ(listing.names, Expected(filter, order_by, false, admin_))
          << filter << " | " << order_by;
    }
  }
}

TEST_F(ListIndexTest, RecordsFromBeforeTheIndexesAreAddedAtStart) {
  ASSERT_NO_FATAL_FAILURE(Load(30));
  ASSERT_THAT(IndexDifferences(), ::testing::IsEmpty());
  // As an earlier version left Redis: records, no indexes.
  for (const char* pattern :
       {"accord:idx:*", "accord:ord:*", "accord:idx-ready:*"}) {
    absl::StatusOr<RedisValue> keys = redis_client_->Command({"KEYS", pattern});
    ASSERT_TRUE(keys.ok());
    for (const RedisValue& key : keys->elements) {
      ASSERT_TRUE(redis_client_->Command({"DEL", key.text}).ok());
    }
  }
  EXPECT_THAT(IndexDifferences(), ::testing::Not(::testing::IsEmpty()));
  // Not complete: not used, and the answer is still right.
  const Listing before = ListAll("kind = KIND_TREATY", "", 5, false, admin_);
  EXPECT_EQ(before.plan, "scan");
  EXPECT_EQ(before.names, Expected("kind = KIND_TREATY", "", false, admin_));

  agreement_->Stop();
  agreement_->Start();
  stub_ = v1::AgreementService::NewStub(agreement_->Channel());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    absl::StatusOr<RedisValue> ready = redis_client_->Command(
        {"GET", "accord:idx-ready:agreements:signing_date"});
    if (ready.ok() && !ready->is_nil()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(IndexDifferences(), ::testing::IsEmpty());
  const Listing after = ListAll("kind = KIND_TREATY", "", 5, false, admin_);
  EXPECT_EQ(after.plan, "index:kind");
  EXPECT_EQ(after.names, before.names);
  const Listing ordered = ListAll("", "signing_date desc", 4, true, admin_);
  EXPECT_EQ(ordered.plan, "index:signing_date:order");
  EXPECT_EQ(ordered.names, Expected("", "signing_date desc", true, admin_));
}

}  // namespace
}  // namespace accord::agreement
