// Drives the real accord-institution binary over gRPC against a real
// redis-server (AOF, appendfsync always), both on free loopback ports.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "common/redis/client.h"
#include "tests/harness/credentials.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::institution {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using v1::Institution;
using v1::InstitutionName;
using v1::Official;

InstitutionName Name(const std::string& text, InstitutionName::Type type,
                     const std::string& language) {
  InstitutionName name;
  name.set_text(text);
  name.set_type(type);
  name.set_language_code(language);
  return name;
}

Institution University(const std::string& display_name,
                       const std::string& country = "IR") {
  Institution institution;
  *institution.add_names() =
      Name(display_name, InstitutionName::TYPE_DISPLAY, "en");
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code(country);
  return institution;
}

// The first field violation's path, or "" when the status has none.
std::string FieldOf(const grpc::Status& status) {
  std::vector<FieldViolation> violations =
      FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

class InstitutionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    service_ =
        std::make_unique<ServiceProcess>("accord-institution", redis_->url());
    Connect();
    events_ = std::make_unique<EventLog>(redis_->url());
  }

  void Connect() {
    stub_ = v1::InstitutionService::NewStub(service_->Channel());
  }

  grpc::Status Create(const Institution& institution, const std::string& id,
                      Institution* created,
                      const std::string& request_id = "") {
    v1::CreateInstitutionRequest request;
    *request.mutable_institution() = institution;
    request.set_institution_id(id);
    request.set_request_id(request_id);
    grpc::ClientContext context;
    return stub_->CreateInstitution(&context, request, created);
  }

  Institution MustCreate(const Institution& institution,
                         const std::string& id) {
    Institution created;
    const grpc::Status status = Create(institution, id, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status Get(const std::string& name, Institution* institution) {
    v1::GetInstitutionRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    return stub_->GetInstitution(&context, request, institution);
  }

  grpc::Status Update(const Institution& patch,
                      const std::vector<std::string>& paths,
                      Institution* updated) {
    v1::UpdateInstitutionRequest request;
    *request.mutable_institution() = patch;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    grpc::ClientContext context;
    return stub_->UpdateInstitution(&context, request, updated);
  }

  grpc::Status Delete(const std::string& name, Institution* deleted,
                      const std::string& etag = "") {
    v1::DeleteInstitutionRequest request;
    request.set_name(name);
    request.set_etag(etag);
    grpc::ClientContext context;
    return stub_->DeleteInstitution(&context, request, deleted);
  }

  grpc::Status List(const v1::ListInstitutionsRequest& request,
                    v1::ListInstitutionsResponse* response) {
    grpc::ClientContext context;
    return stub_->ListInstitutions(&context, request, response);
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<v1::InstitutionService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(InstitutionServiceTest, CreateThenGetReturnsEveryField) {
  Institution tums = University("Tehran University of Medical Sciences");
  *tums.add_names() =
      Name("دانشگاه علوم پزشکی تهران", InstitutionName::TYPE_DISPLAY, "fa");
  *tums.add_names() = Name("TUMS", InstitutionName::TYPE_ACRONYM, "en");
  auto* ror = tums.add_external_ids();
  ror->set_scheme(v1::ExternalId::SCHEME_ROR);
  ror->set_value("01c4pz451");
  tums.set_website_uri("https://www.tums.ac.ir");

  const Institution created = MustCreate(tums, "tums");
  EXPECT_EQ(created.name(), "institutions/tums");
  EXPECT_EQ(created.state(), Institution::STATE_ACTIVE);
  EXPECT_FALSE(created.etag().empty());
  EXPECT_TRUE(created.has_create_time());
  EXPECT_FALSE(created.has_delete_time());

  Institution read;
  ASSERT_TRUE(Get("institutions/tums", &read).ok());
  EXPECT_EQ(read.SerializeAsString(), created.SerializeAsString());
  EXPECT_EQ(read.names(1).text(), "دانشگاه علوم پزشکی تهران");

  const auto events = events_->All();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "accord.institution.v1.created");
  EXPECT_EQ(events[0].subject(), "institutions/tums");
  EXPECT_EQ(events[0].source(), "//accord/institution");
  EXPECT_FALSE(events[0].id().empty());
  EXPECT_FALSE(events[0].position().empty());
  EXPECT_THAT(events[0].country_codes(), ElementsAre("IR"));
  Institution payload;
  ASSERT_TRUE(events[0].payload().UnpackTo(&payload));
  EXPECT_EQ(payload.etag(), created.etag());
}

TEST_F(InstitutionServiceTest, GeneratedIdWhenNoneGiven) {
  const Institution created = MustCreate(University("Generated"), "");
  EXPECT_THAT(created.name(), ::testing::StartsWith("institutions/"));
  Institution read;
  EXPECT_TRUE(Get(created.name(), &read).ok());
}

TEST_F(InstitutionServiceTest, RejectedWritesNameTheFieldAndWriteNothing) {
  MustCreate(University("Parent"), "parent");
  const int64_t events_before = events_->Count();

  struct Case {
    std::string label;
    Institution institution;
    std::string id;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  {
    Institution bad = University("Bad country");
    bad.set_country_code("XX");
    cases.push_back({"bad country", bad, "a", grpc::INVALID_ARGUMENT,
                     "institution.country_code"});
  }
  {
    Institution bad = University("Orphan");
    bad.set_parent("institutions/nobody");
    cases.push_back({"unknown parent", bad, "b", grpc::INVALID_ARGUMENT,
                     "institution.parent"});
  }
  {
    Institution bad = University("x");
    bad.mutable_names(0)->set_text("   ");
    cases.push_back({"empty display name", bad, "c", grpc::INVALID_ARGUMENT,
                     "institution.names[0].text"});
  }
  {
    Institution bad = University(std::string(600, 'a'));
    cases.push_back({"over-long name", bad, "d", grpc::INVALID_ARGUMENT,
                     "institution.names[0].text"});
  }
  {
    Institution bad = University("Bad parent name");
    bad.set_parent("universities/x");
    cases.push_back({"bad resource name", bad, "e", grpc::INVALID_ARGUMENT,
                     "institution.parent"});
  }
  cases.push_back({"bad id", University("Bad id"), "Bad_Id",
                   grpc::INVALID_ARGUMENT, "institution_id"});
  cases.push_back({"taken id", University("Taken"), "parent",
                   grpc::ALREADY_EXISTS, "institution_id"});
  {
    Institution bad = University("No kind");
    bad.clear_kind();
    cases.push_back(
        {"no kind", bad, "f", grpc::INVALID_ARGUMENT, "institution.kind"});
  }

  for (const Case& test_case : cases) {
    Institution created;
    const grpc::Status status =
        Create(test_case.institution, test_case.id, &created);
    EXPECT_EQ(status.error_code(), test_case.code) << test_case.label;
    EXPECT_EQ(FieldOf(status), test_case.field) << test_case.label;
    Institution absent;
    if (test_case.code != grpc::ALREADY_EXISTS && test_case.id != "Bad_Id") {
      EXPECT_EQ(Get("institutions/" + test_case.id, &absent).error_code(),
                grpc::NOT_FOUND)
          << test_case.label;
    }
  }
  EXPECT_EQ(events_->Count(), events_before);

  Institution unchanged;
  ASSERT_TRUE(Get("institutions/parent", &unchanged).ok());
  EXPECT_EQ(unchanged.names(0).text(), "Parent");
}

TEST_F(InstitutionServiceTest, GetErrors) {
  Institution institution;
  grpc::Status status = Get("institutions/missing", &institution);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND);
  status = Get("officials/x", &institution);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "name");
  status = Get("", &institution);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
}

TEST_F(InstitutionServiceTest, UpdateAppliesOnlyTheMaskAndChecksEtag) {
  Institution created = MustCreate(University("Old name"), "uni");
  Institution patch;
  patch.set_name("institutions/uni");
  *patch.add_names() = Name("New name", InstitutionName::TYPE_DISPLAY, "en");
  patch.set_country_code("RU");  // not in the mask: must not change
  patch.set_etag(created.etag());
  Institution updated;
  ASSERT_TRUE(Update(patch, {"names"}, &updated).ok());
  EXPECT_EQ(updated.names(0).text(), "New name");
  EXPECT_EQ(updated.country_code(), "IR");
  EXPECT_NE(updated.etag(), created.etag());
  EXPECT_EQ(updated.create_time().seconds(), created.create_time().seconds());

  // The old etag is stale now.
  const int64_t events_before = events_->Count();
  grpc::Status status = Update(patch, {"names"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::ABORTED);
  EXPECT_EQ(events_->Count(), events_before);

  status = Update(patch, {"create_time"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "update_mask");

  patch.clear_etag();
  patch.set_country_code("ZZ");
  status = Update(patch, {"country_code"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "institution.country_code");

  patch.set_name("institutions/missing");
  status = Update(patch, {"names"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND);

  const auto events = events_->All();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "accord.institution.v1.updated");
}

TEST_F(InstitutionServiceTest, ConcurrentUpdatesWithTheSameEtagExactlyOneWins) {
  const Institution created = MustCreate(University("Contended"), "contended");
  constexpr int kWriters = 8;
  std::atomic<int> succeeded{0};
  std::atomic<int> aborted{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      auto stub = v1::InstitutionService::NewStub(service_->Channel());
      v1::UpdateInstitutionRequest request;
      request.mutable_institution()->set_name("institutions/contended");
      request.mutable_institution()->set_etag(created.etag());
      request.mutable_institution()->set_website_uri(
          absl::StrCat("https://writer", i, ".example"));
      request.mutable_update_mask()->add_paths("website_uri");
      grpc::ClientContext context;
      Institution updated;
      const grpc::Status status =
          stub->UpdateInstitution(&context, request, &updated);
      if (status.ok()) ++succeeded;
      if (status.error_code() == grpc::ABORTED) ++aborted;
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(succeeded.load(), 1);
  EXPECT_EQ(aborted.load(), kWriters - 1);
  EXPECT_EQ(events_->Count(), 2);
}

TEST_F(InstitutionServiceTest, RetriedCreateWithSameRequestIdCreatesOnce) {
  Institution first;
  ASSERT_TRUE(Create(University("Once"), "", &first,
                     "5b1c1f1e-aaaa-4bbb-8ccc-1234567890ab")
                  .ok());
  Institution second;
  ASSERT_TRUE(Create(University("Once"), "", &second,
                     "5b1c1f1e-aaaa-4bbb-8ccc-1234567890ab")
                  .ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(first.etag(), second.etag());
  v1::ListInstitutionsResponse listed;
  ASSERT_TRUE(List({}, &listed).ok());
  EXPECT_EQ(listed.institutions_size(), 1);
  EXPECT_EQ(events_->Count(), 1);

  Institution bad;
  EXPECT_EQ(Create(University("x"), "", &bad, "bad request id!").error_code(),
            grpc::INVALID_ARGUMENT);
}

TEST_F(InstitutionServiceTest, SoftDeleteUndeleteAndChildren) {
  Institution parent = MustCreate(University("Parent"), "parent");
  Institution child = University("Child");
  child.set_parent("institutions/parent");
  child.set_kind(Institution::KIND_RESEARCH_CENTRE);
  MustCreate(child, "child");

  Institution result;
  grpc::Status status = Delete("institutions/parent", &result);
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(Delete("institutions/parent", &result, "stale").error_code(),
            grpc::ABORTED);

  ASSERT_TRUE(Delete("institutions/child", &result).ok());
  EXPECT_TRUE(result.has_delete_time());
  Institution read;
  ASSERT_TRUE(Get("institutions/child", &read).ok());  // soft: still readable
  EXPECT_TRUE(read.has_delete_time());
  EXPECT_EQ(Delete("institutions/child", &result).error_code(),
            grpc::NOT_FOUND);

  v1::ListInstitutionsRequest request;
  v1::ListInstitutionsResponse listed;
  ASSERT_TRUE(List(request, &listed).ok());
  EXPECT_EQ(listed.institutions_size(), 1);
  request.set_show_deleted(true);
  ASSERT_TRUE(List(request, &listed).ok());
  EXPECT_EQ(listed.institutions_size(), 2);

  ASSERT_TRUE(Delete("institutions/parent", &result).ok());
  // A child cannot come back under a deleted parent.
  v1::UndeleteInstitutionRequest undelete;
  undelete.set_name("institutions/child");
  grpc::ClientContext context;
  status = stub_->UndeleteInstitution(&context, undelete, &result);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "institution.parent");

  undelete.set_name("institutions/parent");
  grpc::ClientContext context2;
  ASSERT_TRUE(stub_->UndeleteInstitution(&context2, undelete, &result).ok());
  EXPECT_FALSE(result.has_delete_time());
  undelete.set_name("institutions/child");
  grpc::ClientContext context3;
  ASSERT_TRUE(stub_->UndeleteInstitution(&context3, undelete, &result).ok());

  std::vector<std::string> types;
  for (const auto& event : events_->All()) types.push_back(event.type());
  EXPECT_THAT(types, ElementsAre("accord.institution.v1.created",
                                 "accord.institution.v1.created",
                                 "accord.institution.v1.deleted",
                                 "accord.institution.v1.deleted",
                                 "accord.institution.v1.undeleted",
                                 "accord.institution.v1.undeleted"));
}

TEST_F(InstitutionServiceTest, ParentCyclesAreRefused) {
  MustCreate(University("A"), "a");
  Institution b = University("B");
  b.set_parent("institutions/a");
  MustCreate(b, "b");
  Institution patch;
  patch.set_name("institutions/a");
  patch.set_parent("institutions/b");
  Institution updated;
  const grpc::Status status = Update(patch, {"parent"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "institution.parent");
}

TEST_F(InstitutionServiceTest, ListFiltersAndOrders) {
  MustCreate(University("Tehran University of Medical Sciences"), "tums");
  MustCreate(University("Moscow State University", "RU"), "msu");
  Institution ministry = University("Ministry of Health", "RU");
  ministry.set_kind(Institution::KIND_MINISTRY);
  MustCreate(ministry, "minzdrav");

  v1::ListInstitutionsRequest request;
  v1::ListInstitutionsResponse response;
  request.set_filter("country_code = \"RU\" AND kind = KIND_UNIVERSITY");
  ASSERT_TRUE(List(request, &response).ok());
  ASSERT_EQ(response.institutions_size(), 1);
  EXPECT_EQ(response.institutions(0).name(), "institutions/msu");

  request.set_filter("names.text: \"ministry\" OR country_code = \"IR\"");
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(response.institutions_size(), 2);

  request.set_filter("");
  request.set_order_by("create_time desc");
  ASSERT_TRUE(List(request, &response).ok());
  ASSERT_EQ(response.institutions_size(), 3);
  EXPECT_EQ(response.institutions(0).name(), "institutions/minzdrav");
  EXPECT_EQ(response.institutions(2).name(), "institutions/tums");

  request.set_order_by("website_uri");
  grpc::Status status = List(request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "order_by");

  request.set_order_by("");
  request.set_filter("country_code = ");
  status = List(request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "filter");

  request.set_filter("no_such_field = 1");
  status = List(request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_field"));
}

TEST_F(InstitutionServiceTest, PaginationOverThousandsHasNoDuplicatesOrGaps) {
  constexpr int kInitial = 1000;
  // Pipelined creation through many threads keeps set-up short.
  std::vector<std::thread> creators;
  constexpr int kThreads = 8;
  for (int t = 0; t < kThreads; ++t) {
    creators.emplace_back([&, t] {
      auto stub = v1::InstitutionService::NewStub(service_->Channel());
      for (int i = t; i < kInitial; i += kThreads) {
        v1::CreateInstitutionRequest request;
        *request.mutable_institution() =
            University(absl::StrCat("University ", i));
        request.set_institution_id(absl::StrFormat("u%05d", i * 2));
        grpc::ClientContext context;
        Institution created;
        ASSERT_TRUE(stub->CreateInstitution(&context, request, &created).ok());
      }
    });
  }
  for (std::thread& creator : creators) creator.join();

  for (const std::string& order_by :
       {std::string(""), std::string("create_time")}) {
    std::set<std::string> seen;
    int pages = 0;
    int added = 0;
    v1::ListInstitutionsRequest request;
    request.set_page_size(97);
    request.set_order_by(order_by);
    do {
      v1::ListInstitutionsResponse response;
      ASSERT_TRUE(List(request, &response).ok());
      for (const Institution& institution : response.institutions()) {
        EXPECT_TRUE(seen.insert(institution.name()).second)
            << "duplicate " << institution.name();
      }
      // Records added between pages, before and after the cursor.
      MustCreate(University("Added"),
                 absl::StrFormat("u%05d-%s-%d", pages * 2 + 1,
                                 order_by.empty() ? "n" : "c", pages));
      ++added;
      request.set_page_token(response.next_page_token());
      ++pages;
    } while (!request.page_token().empty() && pages < 100);
    // Every record that existed before listing began was seen exactly once.
    for (int i = 0; i < kInitial; ++i) {
      EXPECT_TRUE(seen.count(absl::StrFormat("institutions/u%05d", i * 2)))
          << "gap at " << i;
    }
    EXPECT_GE(pages, kInitial / 97);
  }

  // A token is bound to its query.
  v1::ListInstitutionsRequest request;
  request.set_page_size(10);
  v1::ListInstitutionsResponse response;
  ASSERT_TRUE(List(request, &response).ok());
  request.set_page_token(response.next_page_token());
  request.set_filter("country_code = \"IR\"");
  const grpc::Status status = List(request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "page_token");
}

TEST_F(InstitutionServiceTest, BatchGetIsAllOrNothing) {
  MustCreate(University("One"), "one");
  MustCreate(University("Two"), "two");
  v1::BatchGetInstitutionsRequest request;
  request.add_names("institutions/two");
  request.add_names("institutions/one");
  v1::BatchGetInstitutionsResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->BatchGetInstitutions(&context, request, &response).ok());
  }
  ASSERT_EQ(response.institutions_size(), 2);
  EXPECT_EQ(response.institutions(0).name(), "institutions/two");

  request.add_names("institutions/three");
  grpc::ClientContext context;
  const grpc::Status status =
      stub_->BatchGetInstitutions(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("institutions/three"));
  EXPECT_EQ(FieldOf(status), "names[2]");
}

TEST_F(InstitutionServiceTest, SearchFindsAnyNameAcrossScriptsRanked) {
  Institution tums = University("Tehran University of Medical Sciences");
  *tums.add_names() =
      Name("دانشگاه علوم پزشکی تهران", InstitutionName::TYPE_DISPLAY, "fa");
  *tums.add_names() = Name("TUMS", InstitutionName::TYPE_ACRONYM, "en");
  MustCreate(tums, "tums");
  Institution hematology =
      University("National Medical Research Center for Hematology", "RU");
  hematology.set_kind(Institution::KIND_RESEARCH_CENTRE);
  *hematology.add_names() =
      Name("Национальный медицинский исследовательский центр гематологии",
           InstitutionName::TYPE_DISPLAY, "ru");
  *hematology.add_names() =
      Name("Russian National Research Center for Hematology",
           InstitutionName::TYPE_ALIAS, "en");
  MustCreate(hematology, "hematology");
  MustCreate(University("Université de Téhéran", "IR"), "ut");

  auto search = [&](const std::string& query) {
    v1::SearchInstitutionsRequest request;
    request.set_query(query);
    v1::SearchInstitutionsResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->SearchInstitutions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  auto response = search("tums");
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).matched_name().text(), "TUMS");
  EXPECT_DOUBLE_EQ(response.matches(0).score(), 1.0);

  // Arabic-keyboard variants (ي, ك) of the Persian name.
  response = search("علوم پزشكي تهران");
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).institution().name(), "institutions/tums");

  response = search("ГЕМАТОЛОГИИ");
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).institution().name(),
            "institutions/hematology");

  response = search("russian national research center");
  ASSERT_EQ(response.matches_size(), 1);

  response = search("universite de teheran");
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).institution().name(), "institutions/ut");

  // The English name starts with "tehran"; "Téhéran" is the same name in
  // another spelling, found through its consonants and ranked below.
  response = search("tehran");
  ASSERT_EQ(response.matches_size(), 2);
  EXPECT_EQ(response.matches(0).institution().name(), "institutions/tums");
  EXPECT_EQ(response.matches(1).institution().name(), "institutions/ut");
  response = search("te");
  EXPECT_GE(response.matches_size(), 2);
  for (int i = 1; i < response.matches_size(); ++i) {
    EXPECT_GE(response.matches(i - 1).score(), response.matches(i).score());
  }

  v1::SearchInstitutionsRequest empty;
  empty.set_query("  ");
  v1::SearchInstitutionsResponse ignored;
  grpc::ClientContext context;
  const grpc::Status status =
      stub_->SearchInstitutions(&context, empty, &ignored);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "query");
}

TEST_F(InstitutionServiceTest, SearchEntriesOfOlderFormatAreFoundAndRebuilt) {
  Institution bsu = University("Bakı Dövlət Universiteti", "AZ");
  MustCreate(bsu, "bsu");
  Institution msu = University("Lomonosov Moscow State University", "RU");
  *msu.add_names() =
      Name("Московский государственный университет имени М. В. Ломоносова",
           InstitutionName::TYPE_DISPLAY, "ru");
  MustCreate(msu, "msu");
  // Overwrite their entries as the version before transliteration wrote
  // them: each name folded without ı and ə, one per line.
  const std::string kIndex = "accord:search:institutions";
  ASSERT_TRUE(events_->redis()
                  .Command({"HSET", kIndex, "institutions/bsu",
                            "bakı dovlət universiteti"})
                  .ok());
  ASSERT_TRUE(events_->redis()
                  .Command({"HSET", kIndex, "institutions/msu",
                            "lomonosov moscow state university\n"
                            "московскии государственныи университет "
                            "имени м в ломоносова"})
                  .ok());
  auto first_match = [&](const std::string& query) {
    v1::SearchInstitutionsRequest request;
    request.set_query(query);
    v1::SearchInstitutionsResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->SearchInstitutions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.matches_size() == 0
               ? std::string()
               : response.matches(0).institution().name();
  };
  auto is_current = [&](const std::string& name) {
    absl::StatusOr<RedisValue> value =
        events_->redis().Command({"HGET", kIndex, name});
    return value.ok() && value->text.find("\x1e\x02") != std::string::npos;
  };
  // Found straight away: their keys are computed when read...
  EXPECT_EQ(first_match("baki dovlet"), "institutions/bsu");
  EXPECT_EQ(first_match("moskovskiy gosudarstvennyy"), "institutions/msu");
  EXPECT_FALSE(is_current("institutions/bsu"));

  // ...and the next replica to start (an upgrade's new version) rewrites
  // them from the records.
  ServiceProcess upgraded("accord-institution", redis_->url());
  stub_ = v1::InstitutionService::NewStub(upgraded.Channel());
  EXPECT_TRUE(is_current("institutions/bsu"));
  EXPECT_TRUE(is_current("institutions/msu"));
  EXPECT_EQ(first_match("baki dovlet"), "institutions/bsu");
  EXPECT_EQ(first_match("moskovskiy gosudarstvennyy"), "institutions/msu");
  EXPECT_THAT(upgraded.ReadLog(),
              ::testing::ContainsRegex("search index rebuilt.*rewritten=2"));
  // Once: a later start finds nothing to do.
  ServiceProcess later("accord-institution", redis_->url());
  EXPECT_THAT(later.ReadLog(),
              ::testing::Not(::testing::HasSubstr("search index rebuilt")));
}

// The search test matrix: real institution names in Azerbaijani, Turkish,
// Kazakh (Cyrillic and Latin), Uzbek, Turkmen, Russian, Persian and
// English, searched in Latin, Cyrillic and Persian script. The service runs
// with authentication on; an editor records, a viewer searches.
class SearchMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = credentials_.Add("registry-admin", auth::v1::ROLE_ADMIN);
    viewer_ = credentials_.Add("search-viewer", auth::v1::ROLE_VIEWER);
    redis_ = std::make_unique<RedisServer>();
    service_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{
            credentials_.Write(accord::testing::MakeTempDir("search"))});
    stub_ = v1::InstitutionService::NewStub(service_->Channel());
  }

  void Add(const std::string& id, const std::string& country,
           const std::vector<InstitutionName>& names) {
    v1::CreateInstitutionRequest request;
    Institution* institution = request.mutable_institution();
    for (const InstitutionName& name : names) *institution->add_names() = name;
    institution->set_kind(Institution::KIND_UNIVERSITY);
    institution->set_country_code(country);
    request.set_institution_id(id);
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_));
    Institution created;
    const grpc::Status status =
        stub_->CreateInstitution(&context, request, &created);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
  }

  static InstitutionName Display(const std::string& text,
                                 const std::string& language) {
    return Name(text, InstitutionName::TYPE_DISPLAY, language);
  }
  static InstitutionName Acronym(const std::string& text,
                                 const std::string& language) {
    return Name(text, InstitutionName::TYPE_ACRONYM, language);
  }

  v1::SearchInstitutionsResponse Search(const std::string& query) {
    v1::SearchInstitutionsRequest request;
    request.set_query(query);
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", viewer_));
    v1::SearchInstitutionsResponse response;
    const grpc::Status status =
        stub_->SearchInstitutions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << query << ": " << status.error_message();
    return response;
  }

  accord::testing::TestCredentials credentials_;
  std::string admin_;
  std::string viewer_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<v1::InstitutionService::Stub> stub_;
};

TEST_F(SearchMatrixTest, EachQueryFindsItsInstitutionFirst) {
  Add("bsu", "AZ", {Display("Bakı Dövlət Universiteti", "az")});
  Add("amu", "AZ", {Display("Azərbaycan Tibb Universiteti", "az")});
  Add("itu", "TR",
      {Display("İstanbul Teknik Üniversitesi", "tr"),
       Display("Istanbul Technical University", "en")});
  Add("iu", "TR", {Display("İstanbul Üniversitesi", "tr")});
  Add("metu", "TR",
      {Display("Orta Doğu Teknik Üniversitesi", "tr"),
       Display("Middle East Technical University", "en"),
       Acronym("ODTÜ", "tr")});
  // Kazakh in Cyrillic only, and in the Latin alphabet only.
  Add("kaznu", "KZ",
      {Display("Әл-Фараби атындағы Қазақ ұлттық университеті", "kk")});
  Add("enu", "KZ",
      {Display("Л. Н. Гумилев атындағы Еуразия ұлттық университеті", "kk")});
  Add("ayu", "KZ",
      {Display(
          "Qoja Ahmet Iasaui atyndağy Halyqaralyq qazaq-türik universiteti",
          "kk")});
  Add("nuu", "UZ",
      {Display("Mirzo Ulug‘bek nomidagi O‘zbekiston Milliy universiteti",
               "uz")});
  Add("tstu", "UZ",
      {Display("Islom Karimov nomidagi Toshkent davlat texnika universiteti",
               "uz")});
  Add("tdu", "TM",
      {Display("Magtymguly adyndaky Türkmen döwlet uniwersiteti", "tk")});
  // Russian only.
  Add("msu", "RU",
      {Display("Московский государственный университет имени М. В. Ломоносова",
               "ru")});
  Add("hematology", "RU",
      {Display("Национальный медицинский исследовательский центр гематологии",
               "ru"),
       Display("National Medical Research Center for Hematology", "en")});
  // English only.
  Add("mipt", "RU",
      {Display("Moscow Institute of Physics and Technology", "en")});
  Add("nu", "KZ", {Display("Nazarbayev University", "en")});
  Add("harvard", "US", {Display("Harvard University", "en")});
  Add("pcgtrc", "IR",
      {Display("Pediatric Cell and Gene Therapy Research Center", "en")});
  // English and Persian, and Persian only.
  Add("tums", "IR",
      {Display("Tehran University of Medical Sciences", "en"),
       Display("دانشگاه علوم پزشکی تهران", "fa"), Acronym("TUMS", "en")});
  Add("ut", "IR", {Display("دانشگاه تهران", "fa")});
  Add("sharif", "IR", {Display("دانشگاه صنعتی شریف", "fa")});

  struct Row {
    const char* query;
    const char* first;  // the institution expected first
    const char* also;   // another expected among the results, or ""
  };
  // Ties are broken by resource name ("Москва": mipt before msu).
  const Row rows[] = {
      // Latin script.
      {"baki dovlet", "bsu", ""},
      {"BAKI DÖVLƏT UNİVERSİTETİ", "bsu", ""},
      {"azerbaycan tibb", "amu", ""},
      {"istanbul teknik", "itu", ""},
      {"istanbul universitesi", "iu", "itu"},  // exact name first
      {"İstanbul Teknik Üniversitesi", "itu", ""},
      {"ISTANBUL TECHNICAL", "itu", ""},
      {"orta dogu", "metu", ""},
      {"odtu", "metu", ""},
      {"al-farabi", "kaznu", ""},
      {"qazaq ulttyq", "kaznu", ""},
      {"ozbekiston", "nuu", ""},
      {"o'zbekiston milliy", "nuu", ""},
      {"ulugbek", "nuu", ""},
      {"toshkent davlat", "tstu", ""},
      {"turkmen dowlet", "tdu", ""},
      {"moskovskiy", "msu", ""},
      {"moskovskij", "msu", ""},
      {"lomonosov", "msu", ""},
      {"moscow university", "msu", ""},
      {"gumilev", "enu", ""},
      {"tehran", "tums", "ut"},  // Persian-only name found too
      {"daneshgah tehran", "ut", "tums"},
      {"sharif", "sharif", ""},
      {"pediatric gene therapy", "pcgtrc", ""},
      {"hematology", "hematology", ""},
      {"tums", "tums", ""},
      // Cyrillic script.
      {"әл-фараби", "kaznu", ""},
      {"Қазақ ұлттық", "kaznu", ""},
      {"еуразия", "enu", ""},
      {"тегеран", "tums", "ut"},
      {"Москва", "mipt", "msu"},
      {"Назарбаев", "nu", ""},
      {"Гарвард", "harvard", ""},
      {"Ўзбекистон миллий университети", "nuu", ""},
      {"Ташкент", "tstu", ""},
      {"гематология", "hematology", ""},
      {"Ломоносов", "msu", ""},
      {"московский государственный университет имени м в ломоносова", "msu",
       ""},
      // Persian script.
      {"دانشگاه تهران", "ut", "tums"},   // exact name first
      {"علوم پزشكي تهران", "tums", ""},  // Arabic-keyboard letters
      {"شریف", "sharif", ""},
      {"هاروارد", "harvard", ""},
      {"فارابی", "kaznu", ""},
      {"ازبکستان", "nuu", ""},
      {"مسکو", "mipt", "msu"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.query);
    const v1::SearchInstitutionsResponse response = Search(row.query);
    ASSERT_GT(response.matches_size(), 0);
    EXPECT_EQ(response.matches(0).institution().name(),
              absl::StrCat("institutions/", row.first));
    std::vector<std::string> found;
    for (int i = 0; i < response.matches_size(); ++i) {
      found.push_back(response.matches(i).institution().name());
      if (i > 0) {
        EXPECT_GE(response.matches(i - 1).score(), response.matches(i).score());
      }
    }
    if (*row.also != '\0') {
      EXPECT_THAT(found,
                  ::testing::Contains(absl::StrCat("institutions/", row.also)));
    }
  }

  // The name that matched is reported, in its own script.
  v1::SearchInstitutionsResponse response = Search("al-farabi");
  EXPECT_EQ(response.matches(0).matched_name().text(),
            "Әл-Фараби атындағы Қазақ ұлттық университеті");
  // Ranking: exact name > prefix > word in the name's own script >
  // transliterated.
  response = Search("tehran university of medical sciences");
  EXPECT_DOUBLE_EQ(response.matches(0).score(), 1.0);
  response = Search("tehran");
  ASSERT_EQ(response.matches_size(), 2);
  EXPECT_DOUBLE_EQ(response.matches(0).score(), 0.9);
  EXPECT_LT(response.matches(1).score(), 0.5);
  EXPECT_EQ(response.matches(1).matched_name().text(), "دانشگاه تهران");
}

TEST_F(InstitutionServiceTest, OfficialsNeedLiveInstitutions) {
  MustCreate(University("Tehran University of Medical Sciences"), "tums");
  v1::CreateOfficialRequest request;
  request.set_official_id("maryam-behfar");
  auto* name = request.mutable_official()->add_names();
  name->set_text("Maryam Behfar");
  name->set_type(v1::PersonName::TYPE_DISPLAY);
  auto* position = request.mutable_official()->add_positions();
  position->set_institution("institutions/tums");
  position->set_title("Official");
  Official created;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CreateOfficial(&context, request, &created).ok());
  }
  EXPECT_EQ(created.name(), "officials/maryam-behfar");

  request.set_official_id("ghost");
  request.mutable_official()->mutable_positions(0)->set_institution(
      "institutions/nowhere");
  grpc::ClientContext context;
  const grpc::Status status =
      stub_->CreateOfficial(&context, request, &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "official.positions[0].institution");

  v1::ListOfficialsRequest list;
  list.set_filter("positions.institution = \"institutions/tums\"");
  v1::ListOfficialsResponse listed;
  grpc::ClientContext list_context;
  ASSERT_TRUE(stub_->ListOfficials(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.officials_size(), 1);

  const auto events = events_->All();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "accord.official.v1.created");
  EXPECT_THAT(events[1].institutions(), ElementsAre("institutions/tums"));
}

TEST_F(InstitutionServiceTest, NothingAcknowledgedIsLostAcrossRestarts) {
  std::vector<Institution> acknowledged;
  for (int i = 0; i < 20; ++i) {
    acknowledged.push_back(MustCreate(University(absl::StrCat("Durable ", i)),
                                      absl::StrCat("d", i)));
  }
  // The service restarts cleanly...
  EXPECT_EQ(service_->Stop(), 0);
  service_->Start();
  Connect();
  // ...and Redis dies without warning; AOF (appendfsync always) brings
  // every acknowledged write back.
  redis_->Kill();
  redis_->Start();
  ASSERT_TRUE(accord::testing::WaitForHealth(service_->Channel(), true,
                                             absl::Seconds(10))
                  .ok());
  for (const Institution& expected : acknowledged) {
    Institution read;
    grpc::Status status = Get(expected.name(), &read);
    // The first call after Redis returns may find the pool reconnecting.
    for (int retry = 0; retry < 20 && status.error_code() == grpc::UNAVAILABLE;
         ++retry) {
      absl::SleepFor(absl::Milliseconds(100));
      status = Get(expected.name(), &read);
    }
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(read.SerializeAsString(), expected.SerializeAsString());
  }
  EXPECT_EQ(events_->Count(), 20);
  // Writes work after the restart, including the write function.
  MustCreate(University("After restart"), "after");
}

TEST_F(InstitutionServiceTest, HealthFollowsRedisAndCallsFailFast) {
  redis_->Kill();
  ASSERT_TRUE(accord::testing::WaitForHealth(service_->Channel(), false,
                                             absl::Seconds(10))
                  .ok());
  Institution read;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::GetInstitutionRequest request;
  request.set_name("institutions/x");
  const absl::Time start = absl::Now();
  const grpc::Status status = stub_->GetInstitution(&context, request, &read);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  redis_->Start();
  EXPECT_TRUE(accord::testing::WaitForHealth(service_->Channel(), true,
                                             absl::Seconds(10))
                  .ok());
}

TEST_F(InstitutionServiceTest, MetricsCountRequestsByMethodAndCode) {
  Institution read;
  (void)Get("institutions/missing", &read);
  httplib::Client client("127.0.0.1", service_->metrics_port());
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body,
              HasSubstr("accord_rpc_requests_total{method=\"/"
                        "accord.institution.v1.InstitutionService/"
                        "GetInstitution\",code=\"NOT_FOUND\"} 1"));
  EXPECT_THAT(response->body, HasSubstr("accord_redis_round_trips_total"));
  EXPECT_THAT(response->body, HasSubstr("accord_ready 1"));
}

TEST_F(InstitutionServiceTest, SigtermShutsDownCleanlyAndLogsStructuredLines) {
  Institution read;
  (void)Get("institutions/missing", &read);
  EXPECT_EQ(service_->Stop(), 0);
  const std::string log = service_->ReadLog();
  EXPECT_THAT(log,
              HasSubstr("msg=rpc method=/accord.institution.v1."
                        "InstitutionService/GetInstitution code=NOT_FOUND"));
  EXPECT_THAT(log, HasSubstr("peer="));
  EXPECT_THAT(log, HasSubstr("msg=\"shutting down\""));
  EXPECT_THAT(log, HasSubstr("msg=stopped"));
}

// Raw bytes keep the test free of a copy of reflection.proto: a
// ServerReflectionRequest with `list_services` (field 7) set to "".
TEST_F(InstitutionServiceTest, ReflectionListsTheService) {
  grpc::GenericStub stub(service_->Channel());
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  auto step = [&queue](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(2));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(3));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  ASSERT_TRUE(step(4));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_THAT(bytes, HasSubstr("accord.institution.v1.InstitutionService"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  queue.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (queue.Next(&ignored_tag, &ignored_ok)) {
  }
}

TEST(InstitutionBinaryTest, NotServingUntilRedisIsReachable) {
  // A port nobody listens on yet; Redis starts there later.
  const int redis_port = accord::testing::FreePort();
  ServiceProcess service("accord-institution",
                         absl::StrCat("redis://127.0.0.1:", redis_port), {},
                         /*wait_until_serving=*/false);
  ASSERT_TRUE(
      accord::testing::WaitForHealth(service.Channel(), false, absl::Seconds(5))
          .ok());
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(accord::testing::WaitForHealth(service.Channel(), false,
                                             absl::Milliseconds(200))
                  .ok())
      << "still NOT_SERVING while Redis is missing";
  EXPECT_TRUE(accord::testing::WaitForHealth(
                  service.Channel(), true, absl::Milliseconds(500), "liveness")
                  .ok())
      << "alive all the same";
  accord::testing::ChildProcess redis;
  const std::string dir = accord::testing::MakeTempDir("late-redis");
  redis.Start({"redis-server", "--port", absl::StrCat(redis_port), "--bind",
               "127.0.0.1", "--dir", dir, "--save", ""},
              dir + "/redis.log");
  EXPECT_TRUE(
      accord::testing::WaitForHealth(service.Channel(), true, absl::Seconds(10))
          .ok());
  EXPECT_EQ(service.Stop(), 0);
  redis.Kill();
}

TEST(InstitutionBinaryTest, BadFlagValuesExitWithCodeTwo) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--listen=nonsense"},
        std::vector<std::string>{"--redis=http://localhost"},
        std::vector<std::string>{"--no_such_flag=1"},
        std::vector<std::string>{"--shutdown_grace=soon"}}) {
    accord::testing::ChildProcess process;
    std::vector<std::string> argv = {
        accord::testing::BinaryPath("accord-institution")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const std::string log = accord::testing::MakeTempDir("flags") + "/log";
    process.Start(argv, log);
    EXPECT_EQ(process.Wait(absl::Seconds(10)), 2) << flags[0];
    const std::string output = process.ReadLog();
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  }
}

}  // namespace
}  // namespace accord::institution
