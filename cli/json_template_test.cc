#include "cli/json_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "accord/agreement/v1/agreement_service.pb.h"
#include "accord/institution/v1/institution_service.pb.h"
#include "accord/notification/v1/notification_service.pb.h"
#include "google/protobuf/util/json_util.h"

namespace accord::cli {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Every template parses back into its message: it can be saved and sent.
template <typename T>
T ParseBack(const JsonTemplate& json) {
  T message;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json.json, &message);
  EXPECT_TRUE(status.ok()) << status.message() << "\n" << json.json;
  return message;
}

TEST(JsonTemplateTest, ResourceBodyHasEveryFieldACallerMaySet) {
  const JsonTemplate body = MakeJsonTemplate(
      *institution::v1::Institution::descriptor(), {.omit_identifier = true});
  const auto institution = ParseBack<institution::v1::Institution>(body);
  // Placeholders by type: strings, enums by their first real value,
  // repeated fields with one element.
  EXPECT_EQ(institution.country_code(), "string");
  EXPECT_EQ(institution.kind(), institution::v1::Institution::KIND_UNIVERSITY);
  EXPECT_EQ(institution.names_size(), 1);
  // Output-only fields and the identifier are left out.
  for (const char* absent :
       {"\"createTime\"", "\"etag\"", "\"revisionId\"", "\"name\""}) {
    EXPECT_THAT(body.json, Not(HasSubstr(absent)));
  }
  EXPECT_THAT(body.notes, Contains(HasSubstr("kind: KIND_UNIVERSITY | ")));
}

TEST(JsonTemplateTest, RequestTemplateNestsMessagesAndSkipsOutputOnly) {
  const JsonTemplate request = MakeJsonTemplate(
      *agreement::v1::TransitionMilestoneRequest::descriptor());
  const auto parsed =
      ParseBack<agreement::v1::TransitionMilestoneRequest>(request);
  EXPECT_EQ(parsed.name(), "string");  // kept outside a resource body
  EXPECT_EQ(parsed.transition().state(),
            agreement::v1::Milestone::STATE_PROPOSED);
  EXPECT_EQ(parsed.transition().sources_size(), 1);
  EXPECT_THAT(request.json, Not(HasSubstr("recordTime")));
  EXPECT_THAT(request.notes,
              Contains("transition.state: STATE_PROPOSED | STATE_PLANNED | "
                       "STATE_IN_PROGRESS | STATE_ACHIEVED | STATE_CANCELLED"));
}

TEST(JsonTemplateTest, OneofShowsItsFirstMemberAndNamesTheOthers) {
  const JsonTemplate request =
      MakeJsonTemplate(*notification::v1::WatchEventsRequest::descriptor());
  const auto parsed = ParseBack<notification::v1::WatchEventsRequest>(request);
  EXPECT_EQ(parsed.selector_case(),
            notification::v1::WatchEventsRequest::kSubscription);
  EXPECT_THAT(request.notes,
              Contains("selector: one of subscription | inlineSelector"));
  // Well-known types in their JSON forms.
  EXPECT_THAT(request.json, HasSubstr("\"heartbeatInterval\": \"0s\""));
}

TEST(JsonTemplateTest, EveryRequestOfEveryServiceParsesBack) {
  for (const auto* file :
       {institution::v1::CreateInstitutionRequest::descriptor()->file(),
        agreement::v1::CreateAgreementRequest::descriptor()->file(),
        notification::v1::CreateSubscriptionRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const auto* type = file->service(s)->method(m)->input_type();
        std::unique_ptr<google::protobuf::Message> message(
            google::protobuf::MessageFactory::generated_factory()
                ->GetPrototype(type)
                ->New());
        const auto status = google::protobuf::util::JsonStringToMessage(
            MakeJsonTemplate(*type).json, message.get());
        EXPECT_TRUE(status.ok())
            << type->full_name() << ": " << status.ToString();
      }
    }
  }
}

}  // namespace
}  // namespace accord::cli
