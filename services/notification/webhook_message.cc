#include "services/notification/webhook_message.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/json_string.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace accord::notification {

absl::StatusOr<std::string> DecodeSigningSecret(absl::string_view secret) {
  if (!absl::ConsumePrefix(&secret, kSecretPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must start with \"", kSecretPrefix, "\""));
  }
  std::string key;
  if (!absl::Base64Unescape(secret, &key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be \"", kSecretPrefix, "\" followed by base64"));
  }
  if (key.size() < 24 || key.size() > 64) {
    return absl::InvalidArgumentError(
        "must encode 24 to 64 bytes of key material");
  }
  return key;
}

WebhookHeaders SignWebhook(absl::string_view key, absl::string_view id,
                           absl::Time time, absl::string_view body) {
  WebhookHeaders headers;
  headers.id = std::string(id);
  headers.timestamp = absl::StrCat(absl::ToUnixSeconds(time));
  const std::string content =
      absl::StrCat(headers.id, ".", headers.timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(),
       mac, &mac_length);
  headers.signature =
      absl::StrCat("v1,", absl::Base64Escape(absl::string_view(
                              reinterpret_cast<const char*>(mac), mac_length)));
  return headers;
}

absl::StatusOr<std::string> CloudEventJson(const events::v1::Event& event) {
  std::string data = "null";
  if (event.has_payload()) {
    // The payload types are linked into this binary, so the generated pool
    // knows them; an unknown type is reported rather than sent half-empty.
    absl::string_view type_name = event.payload().type_url();
    type_name = type_name.substr(type_name.rfind('/') + 1);
    const google::protobuf::Descriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()
            ->FindMessageTypeByName(std::string(type_name));
    if (descriptor == nullptr) {
      return absl::InternalError(
          absl::StrCat("unknown payload type ", type_name));
    }
    std::unique_ptr<google::protobuf::Message> payload(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(descriptor)
            ->New());
    if (!payload->ParseFromString(event.payload().value())) {
      return absl::DataLossError("event payload does not decode");
    }
    data.clear();
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = false;
    const auto status =
        google::protobuf::util::MessageToJsonString(*payload, &data, options);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("payload to JSON: ", status.ToString()));
    }
  }
  std::string json =
      absl::StrCat("{\"specversion\":\"1.0\",\"id\":", JsonString(event.id()),
                   ",\"source\":", JsonString(event.source()),
                   ",\"type\":", JsonString(event.type()));
  if (!event.subject().empty()) {
    absl::StrAppend(&json, ",\"subject\":", JsonString(event.subject()));
  }
  if (event.has_time()) {
    absl::StrAppend(
        &json, ",\"time\":",
        JsonString(google::protobuf::util::TimeUtil::ToString(event.time())));
  }
  absl::StrAppend(&json, ",\"datacontenttype\":\"application/json\"");
  if (event.has_payload()) {
    absl::StrAppend(
        &json, ",\"dataschema\":",
        JsonString(absl::StrCat("proto:", event.payload().type_url())));
  }
  absl::StrAppend(&json, ",\"position\":", JsonString(event.position()));
  if (!event.principal().empty()) {
    absl::StrAppend(&json, ",\"principal\":", JsonString(event.principal()));
  }
  if (!event.request_id().empty()) {
    absl::StrAppend(&json, ",\"requestid\":", JsonString(event.request_id()));
  }
  if (!event.traceparent().empty()) {
    // The CloudEvents distributed tracing extension.
    absl::StrAppend(&json,
                    ",\"traceparent\":", JsonString(event.traceparent()));
  }
  absl::StrAppend(&json, ",\"data\":", data, "}");
  return json;
}

}  // namespace accord::notification
