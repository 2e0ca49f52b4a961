#ifndef ACCORD_CLI_JSON_TEMPLATE_H_
#define ACCORD_CLI_JSON_TEMPLATE_H_

// A JSON template for a request message, generated from its descriptor, for
// `accordctl help VERB`: every field a caller may set, in the protobuf JSON
// mapping, with a placeholder of its type. Output-only fields
// (`google.api.field_behavior`) are left out, since the service ignores or
// refuses them. The template parses back into the message, so it can be
// saved, edited and sent.
//
// Example:
//   JsonTemplate body = MakeJsonTemplate(*Institution::descriptor());
//   std::cout << body.json;                      // {"names": [{...}], ...}
//   for (const auto& note : body.notes) std::cout << note << "\n";
//   // kind: KIND_UNIVERSITY | KIND_MINISTRY | ...

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"

namespace accord::cli {

struct JsonTemplateOptions {
  // Leave out IDENTIFIER fields (a resource's `name`): right for the body of
  // a create, where the service names the resource, and of an update, where
  // accordctl sets it from the command line.
  bool omit_identifier = false;
};

struct JsonTemplate {
  // Indented JSON, ending in a newline.
  std::string json;
  // One line per enum field (its values) and per oneof (its choices; the
  // template holds the first), by JSON path: "transition.state: A | B".
  std::vector<std::string> notes;
};

JsonTemplate MakeJsonTemplate(const google::protobuf::Descriptor& message,
                              const JsonTemplateOptions& options = {});

// Whether `field` is annotated `(google.api.field_behavior) = OUTPUT_ONLY`.
bool IsOutputOnly(const google::protobuf::FieldDescriptor& field);

}  // namespace accord::cli

#endif  // ACCORD_CLI_JSON_TEMPLATE_H_
