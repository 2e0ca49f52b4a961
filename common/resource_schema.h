#ifndef ACCORD_COMMON_RESOURCE_SCHEMA_H_
#define ACCORD_COMMON_RESOURCE_SCHEMA_H_

// What the proto says of a resource message, read once from its
// descriptor: the collection, singular and name patterns of its
// `google.api.resource` option, and which fields Update may change (every
// field that is not OUTPUT_ONLY, IMMUTABLE or IDENTIFIER by
// `google.api.field_behavior`). A message that lacks what the standard
// methods rely on aborts the service at start-up with the reason, rather
// than misbehave on the first request.
//
// Example:
//   const ResourceSchema& schema = SchemaOf<v1::Session>();
//   schema.collection;  // "sessions"
//   schema.singular;    // "session"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/api/field_behavior.pb.h"
#include "google/api/resource.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace accord {

struct ResourceSchema {
  std::string type;        // "accord.agreement.v1/Session"
  std::string singular;    // "session": request fields and error paths
  std::string collection;  // "sessions", the last collection of the pattern
  std::vector<std::string> patterns;  // "committees/{committee}/sessions/..."
  // Top-level fields Update may change, in declaration order.
  std::vector<std::string> writable_fields;
};

namespace schema_internal {

inline bool HasBehavior(const google::protobuf::FieldDescriptor& field,
                        google::api::FieldBehavior behavior) {
  const google::protobuf::FieldOptions& options = field.options();
  for (int i = 0; i < options.ExtensionSize(google::api::field_behavior); ++i) {
    if (options.GetExtension(google::api::field_behavior, i) == behavior) {
      return true;
    }
  }
  return false;
}

// Why `descriptor` cannot be served by the standard methods; empty if it
// can.
inline std::vector<std::string> Faults(
    const google::protobuf::Descriptor& descriptor, ResourceSchema& schema) {
  std::vector<std::string> faults;
  const google::api::ResourceDescriptor& resource =
      descriptor.options().GetExtension(google::api::resource);
  schema.type = resource.type();
  // The singular is lowerCamelCase (AIP-123: `agreementText`); requests
  // and error paths use it in snake_case (`agreement_text_id`).
  for (const char c : resource.singular()) {
    if (absl::ascii_isupper(c)) {
      absl::StrAppend(&schema.singular, "_",
                      std::string(1, absl::ascii_tolower(c)));
    } else {
      schema.singular.push_back(c);
    }
  }
  schema.patterns.assign(resource.pattern().begin(), resource.pattern().end());
  if (schema.patterns.empty())
    faults.push_back("no google.api.resource pattern");
  if (schema.singular.empty())
    faults.push_back("no google.api.resource singular");
  for (const std::string& pattern : schema.patterns) {
    const std::vector<std::string> parts = absl::StrSplit(pattern, '/');
    const std::string collection =
        parts.size() >= 2 ? parts[parts.size() - 2] : "";
    // The last variable may be shorter than the singular (AIP-123:
    // `agreements/{agreement}/texts/{text}` of `agreementText`).
    if (parts.size() < 2 || parts.size() % 2 != 0 ||
        !absl::StartsWith(parts.back(), "{") ||
        !absl::EndsWith(parts.back(), "}")) {
      faults.push_back(absl::StrCat("pattern \"", pattern,
                                    "\" does not end in /{variable}"));
    } else if (schema.collection.empty()) {
      schema.collection = collection;
    } else if (collection != schema.collection) {
      faults.push_back("patterns name different collections");
    }
  }
  const std::pair<const char*, google::api::FieldBehavior> standard[] = {
      {"name", google::api::IDENTIFIER},
      {"create_time", google::api::OUTPUT_ONLY},
      {"update_time", google::api::OUTPUT_ONLY},
      {"delete_time", google::api::OUTPUT_ONLY},
      {"etag", google::api::OUTPUT_ONLY}};
  for (const auto& [name, behavior] : standard) {
    const google::protobuf::FieldDescriptor* field =
        descriptor.FindFieldByName(name);
    if (field == nullptr || !HasBehavior(*field, behavior)) {
      faults.push_back(absl::StrCat("no `", name, "` field marked ",
                                    google::api::FieldBehavior_Name(behavior)));
    }
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const google::protobuf::FieldDescriptor& field = *descriptor.field(i);
    if (HasBehavior(field, google::api::OUTPUT_ONLY) ||
        HasBehavior(field, google::api::IMMUTABLE) ||
        HasBehavior(field, google::api::IDENTIFIER)) {
      continue;
    }
    schema.writable_fields.push_back(field.name());
  }
  return faults;
}

inline ResourceSchema ReadOrDie(
    const google::protobuf::Descriptor& descriptor) {
  ResourceSchema schema;
  const std::vector<std::string> faults = Faults(descriptor, schema);
  if (!faults.empty()) {
    std::fprintf(stderr, "resource message %s: %s\n",
                 descriptor.full_name().c_str(),
                 absl::StrJoin(faults, "; ").c_str());
    std::abort();
  }
  return schema;
}

}  // namespace schema_internal

// The schema of resource message `T`, read on first use (a service reads
// every one it serves when it starts).
template <typename T>
const ResourceSchema& SchemaOf() {
  static const ResourceSchema* const schema =
      new ResourceSchema(schema_internal::ReadOrDie(*T::descriptor()));
  return *schema;
}

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_SCHEMA_H_
