#include "common/asyncapi.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/event_types.h"
#include "common/json_string.h"

namespace accord {
namespace {

// A JSON value whose objects keep their keys in insertion order, so the
// document reads top-down (asyncapi, info, channels, ...) and diffs stably.
class Json {
 public:
  static Json Object() { return Json(Kind::kObject); }
  static Json Array() { return Json(Kind::kArray); }
  static Json String(absl::string_view text) {
    Json value(Kind::kString);
    value.text_ = std::string(text);
    return value;
  }
  static Json Strings(const std::vector<std::string>& items) {
    Json array = Array();
    for (const std::string& item : items) array.Push(String(item));
    return array;
  }
  // {"$ref": pointer}
  static Json Ref(absl::string_view pointer) {
    return Object().Set("$ref", String(pointer));
  }

  Json& Set(absl::string_view key, Json value) {
    members_.emplace_back(std::string(key), std::move(value));
    return *this;
  }
  Json& Push(Json value) {
    members_.emplace_back(std::string(), std::move(value));
    return *this;
  }

  void Write(std::string& out, int depth) const {
    switch (kind_) {
      case Kind::kString:
        WriteString(out, text_);
        return;
      case Kind::kObject:
      case Kind::kArray:
        break;
    }
    const bool object = kind_ == Kind::kObject;
    if (members_.empty()) {
      out += object ? "{}" : "[]";
      return;
    }
    out += object ? "{" : "[";
    const std::string indent(2 * (depth + 1), ' ');
    for (size_t i = 0; i < members_.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "\n" : ",\n", indent);
      if (object) {
        WriteString(out, members_[i].first);
        out += ": ";
      }
      members_[i].second.Write(out, depth + 1);
    }
    absl::StrAppend(&out, "\n", std::string(2 * depth, ' '),
                    object ? "}" : "]");
  }

 private:
  enum class Kind { kObject, kArray, kString };
  explicit Json(Kind kind) : kind_(kind) {}

  static void WriteString(std::string& out, absl::string_view text) {
    out += JsonString(text);
  }

  Kind kind_;
  std::string text_;
  std::vector<std::pair<std::string, Json>> members_;  // key empty in arrays
};

// The Any type URL prefix `PackFrom` uses; webhook bodies carry
// `dataschema: proto:<type URL>`.
constexpr char kTypeUrlPrefix[] = "type.googleapis.com/";

constexpr char kDescription[] =
    "Every change an Accord service acknowledges is recorded as one event in "
    "the Redis stream `accord:events`, in the same atomic step as the change "
    "itself: an event exists if and only if its change was acknowledged. Its "
    "stream entry ID is its `position`; positions increase in recording "
    "order.\n"
    "\n"
    "Events reach subscribers two ways:\n"
    "\n"
    "- **gRPC stream**: `WatchEvents` of "
    "`accord.notification.v1.NotificationService` streams "
    "`accord.events.v1.Event` messages (the attributes below, the payload as "
    "a `google.protobuf.Any`, and the filter fields). A watcher that keeps "
    "the last `position` it processed resumes exactly after it.\n"
    "- **Webhooks**: a subscription's endpoint receives one HTTP POST per "
    "event, signed as Standard Webhooks specify (headers `webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`), whose body is the event in "
    "CloudEvents 1.0 structured mode, content type "
    "`application/cloudevents+json`: the message payloads of this "
    "document.\n"
    "\n"
    "A redelivered event keeps its `id` (also its `webhook-id`), so "
    "receivers can deduplicate on it.\n"
    "\n"
    "Each channel is one event type; its address is the CloudEvents `type`. "
    "A message's `x-accord-payload` is the full name of the protobuf message "
    "in `data` (in the protobuf JSON mapping), and `x-accord-filter-fields` "
    "lists the fields of `accord.events.v1.Event` set on every event of the "
    "type, which subscription and watch selectors can match.\n"
    "\n"
    "Generated from the event-type registry (common/event_types.cc) by "
    "`accord-asyncapi`; do not edit by hand.";

// Channel, message and operation keys: the type with its dots as
// underscores, safe in every tool's identifiers.
std::string Key(absl::string_view type) {
  return absl::StrReplaceAll(type, {{".", "_"}});
}

// The resource word of a type, "agreement" in
// "accord.agreement.v1.recorded": the message's tag.
std::string Resource(absl::string_view type) {
  const std::vector<absl::string_view> parts = absl::StrSplit(type, '.');
  return parts.size() > 1 ? std::string(parts[1]) : std::string(type);
}

// A regular expression for a subject pattern such as
// "committees/{committee}/sessions/{session}", where "{x}" is one resource
// ID and " or " separates alternatives.
std::string SubjectRegex(absl::string_view subject) {
  std::vector<std::string> alternatives;
  for (absl::string_view alternative : absl::StrSplit(subject, " or ")) {
    std::string regex;
    bool in_variable = false;
    for (const char c : alternative) {
      if (c == '{') {
        in_variable = true;
        regex += "[^/]+";
      } else if (c == '}') {
        in_variable = false;
      } else if (!in_variable) {
        if (absl::string_view(".^$|?*+()[]\\").find(c) !=
            absl::string_view::npos) {
          regex += '\\';
        }
        regex += c;
      }
    }
    alternatives.push_back(std::move(regex));
  }
  if (alternatives.size() == 1) return absl::StrCat("^", alternatives[0], "$");
  std::string regex = "^(";
  for (size_t i = 0; i < alternatives.size(); ++i) {
    absl::StrAppend(&regex, i == 0 ? "" : "|", alternatives[i]);
  }
  return absl::StrCat(regex, ")$");
}

Json StringSchema(absl::string_view description) {
  return Json::Object()
      .Set("type", Json::String("string"))
      .Set("description", Json::String(description));
}

// The CloudEvents body every webhook receives, as webhook_message.cc's
// CloudEventJson writes it; each message narrows type, source, subject,
// dataschema and data.
Json CloudEventSchema() {
  Json properties = Json::Object();
  properties
      .Set("specversion",
           Json::Object()
               .Set("const", Json::String("1.0"))
               .Set("description", Json::String("CloudEvents version.")))
      .Set("id", StringSchema("Unique per event; a redelivery keeps it, so "
                              "receivers deduplicate on it. Also the "
                              "`webhook-id` header."))
      .Set("source", StringSchema("The service that recorded the change, "
                                  "for example `//accord/agreement`."))
      .Set("type", StringSchema("The event type: the channel address."))
      .Set("subject",
           StringSchema("Resource name of the changed resource, for example "
                        "`agreements/{agreement}`."))
      .Set("time", StringSchema("When the change was recorded (RFC 3339).")
                       .Set("format", Json::String("date-time")))
      .Set("datacontenttype",
           Json::Object()
               .Set("const", Json::String("application/json"))
               .Set("description",
                    Json::String("`data` is the payload in the protobuf JSON "
                                 "mapping.")))
      .Set("dataschema",
           StringSchema("`proto:` and the payload's `google.protobuf.Any` "
                        "type URL."))
      .Set("position",
           StringSchema("Extension: the event's entry ID in the "
                        "`accord:events` stream; resume a watch after it.")
               .Set("pattern", Json::String("^[0-9]+-[0-9]+$")))
      .Set("principal",
           StringSchema("Extension: the authenticated principal that made "
                        "the change."))
      .Set("requestid",
           StringSchema("Extension: the `request_id` of the call that made "
                        "the change, when the caller set one."))
      .Set("traceparent",
           StringSchema("Extension (CloudEvents distributed tracing): the "
                        "W3C `traceparent` of the call that made the change; "
                        "absent for changes the services make on their own.")
               .Set("pattern",
                    Json::String("^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-"
                                 "[0-9a-f]{2}$")))
      .Set("data", Json::Object().Set(
                       "description",
                       Json::String("A snapshot of the resource after the "
                                    "change, in the protobuf JSON mapping.")));
  return Json::Object()
      .Set("type", Json::String("object"))
      .Set("description",
           Json::String("A CloudEvents 1.0 event in structured-mode JSON, as "
                        "a webhook body."))
      .Set("required", Json::Strings({"specversion", "id", "source", "type",
                                      "datacontenttype", "position", "data"}))
      .Set("properties", std::move(properties));
}

Json WebhookHeadersSchema() {
  return Json::Object()
      .Set("type", Json::String("object"))
      .Set("description",
           Json::String("Standard Webhooks headers of a webhook delivery; "
                        "the signature covers `${webhook-id}."
                        "${webhook-timestamp}.${body}`."))
      .Set("required", Json::Strings({"webhook-id", "webhook-timestamp",
                                      "webhook-signature"}))
      .Set("properties",
           Json::Object()
               .Set("webhook-id", StringSchema("The event `id`."))
               .Set("webhook-timestamp",
                    StringSchema("Unix seconds when the attempt was signed.")
                        .Set("pattern", Json::String("^[0-9]+$")))
               .Set("webhook-signature",
                    StringSchema("`v1,` and the base64 HMAC-SHA256 of the "
                                 "signed content under the subscription's "
                                 "`whsec_` secret."))
               .Set("traceparent",
                    StringSchema("W3C Trace Context of the call that made "
                                 "the change (the event's `traceparent`), "
                                 "when it has one.")));
}

Json PayloadSchema(absl::string_view full_name) {
  return Json::Object()
      .Set("type", Json::String("object"))
      .Set("title", Json::String(full_name))
      .Set("description",
           Json::String(absl::StrCat("An `", full_name,
                                     "` in the protobuf JSON mapping "
                                     "(lowerCamelCase field names).")));
}

Json Message(const EventTypeInfo& info) {
  Json narrowed = Json::Object();
  narrowed.Set("type", Json::String("object"))
      .Set("required", Json::Strings({"subject", "time", "dataschema"}))
      .Set(
          "properties",
          Json::Object()
              .Set("type", Json::Object().Set("const", Json::String(info.type)))
              .Set("source",
                   Json::Object().Set("const", Json::String(info.source)))
              .Set(
                  "subject",
                  Json::Object()
                      .Set("type", Json::String("string"))
                      .Set("description",
                           Json::String(absl::StrCat(
                               "Resource name: ", info.subject, ".")))
                      .Set("pattern", Json::String(SubjectRegex(info.subject))))
              .Set("dataschema",
                   Json::Object().Set(
                       "const", Json::String(absl::StrCat(
                                    "proto:", kTypeUrlPrefix, info.payload))))
              .Set("data", Json::Ref(absl::StrCat("#/components/schemas/",
                                                  info.payload))));
  return Json::Object()
      .Set("name", Json::String(info.type))
      .Set("title", Json::String(info.type))
      .Set("description", Json::String(info.description))
      .Set("contentType", Json::String("application/cloudevents+json"))
      .Set("headers", Json::Ref("#/components/schemas/WebhookHeaders"))
      .Set("payload",
           Json::Object().Set(
               "allOf", Json::Array()
                            .Push(Json::Ref("#/components/schemas/CloudEvent"))
                            .Push(std::move(narrowed))))
      .Set("tags", Json::Array().Push(Json::Object().Set(
                       "name", Json::String(Resource(info.type)))))
      .Set("x-accord-payload", Json::String(info.payload))
      .Set("x-accord-filter-fields", Json::Strings(info.filter_fields));
}

}  // namespace

std::string AsyncApiDocument() {
  Json channels = Json::Object();
  Json operations = Json::Object();
  Json messages = Json::Object();
  // Payload schemas once each, in order of first use.
  Json schemas = Json::Object();
  schemas.Set("CloudEvent", CloudEventSchema())
      .Set("WebhookHeaders", WebhookHeadersSchema());
  std::set<std::string> payloads;
  for (const EventTypeInfo& info : EventTypes()) {
    const std::string key = Key(info.type);
    channels.Set(key, Json::Object()
                          .Set("address", Json::String(info.type))
                          .Set("description", Json::String(info.description))
                          .Set("messages",
                               Json::Object().Set(
                                   key, Json::Ref(absl::StrCat(
                                            "#/components/messages/", key)))));
    operations.Set(
        absl::StrCat("receive_", key),
        Json::Object()
            .Set("action", Json::String("receive"))
            .Set("channel", Json::Ref(absl::StrCat("#/channels/", key)))
            .Set("summary",
                 Json::String(absl::StrCat("Receive ", info.type, " events.")))
            .Set("messages", Json::Array().Push(Json::Ref(absl::StrCat(
                                 "#/channels/", key, "/messages/", key)))));
    messages.Set(key, Message(info));
    if (payloads.insert(info.payload).second) {
      schemas.Set(info.payload, PayloadSchema(info.payload));
    }
  }
  Json document = Json::Object();
  document.Set("asyncapi", Json::String("3.0.0"))
      .Set("info", Json::Object()
                       .Set("title", Json::String("Accord events"))
                       .Set("version", Json::String("1.0.0"))
                       .Set("description", Json::String(kDescription)))
      .Set("defaultContentType", Json::String("application/cloudevents+json"))
      .Set("channels", std::move(channels))
      .Set("operations", std::move(operations))
      .Set("components", Json::Object()
                             .Set("schemas", std::move(schemas))
                             .Set("messages", std::move(messages)));
  std::string out;
  document.Write(out, 0);
  out += '\n';
  return out;
}

}  // namespace accord
