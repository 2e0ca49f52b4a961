#include "cli/json_template.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/api/field_behavior.pb.h"

namespace accord::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool HasBehavior(const FieldDescriptor& field,
                 google::api::FieldBehavior behavior) {
  const auto& options = field.options();
  for (int i = 0; i < options.ExtensionSize(google::api::field_behavior); ++i) {
    if (options.GetExtension(google::api::field_behavior, i) == behavior) {
      return true;
    }
  }
  return false;
}

class TemplateWriter {
 public:
  explicit TemplateWriter(const JsonTemplateOptions& options)
      : options_(options) {}

  JsonTemplate Write(const Descriptor& message) {
    Message(message, "", 0);
    out_.json += "\n";
    return std::move(out_);
  }

 private:
  void Indent(int depth) { out_.json.append(2 * depth, ' '); }

  bool Included(const FieldDescriptor& field) const {
    if (IsOutputOnly(field)) return false;
    if (options_.omit_identifier &&
        HasBehavior(field, google::api::IDENTIFIER)) {
      return false;
    }
    // A oneof is shown by its first settable member: JSON holding two
    // members of one oneof does not parse.
    const auto* oneof = field.real_containing_oneof();
    if (oneof != nullptr) {
      for (int i = 0; i < oneof->field_count(); ++i) {
        const FieldDescriptor& member = *oneof->field(i);
        if (!IsOutputOnly(member)) return &member == &field;
      }
    }
    return true;
  }

  // Well-known types have their own JSON forms.
  bool WellKnown(const Descriptor& message) {
    const std::string& name = message.full_name();
    if (name == "google.protobuf.Timestamp") {
      out_.json += "\"1970-01-01T00:00:00Z\"";
    } else if (name == "google.protobuf.Duration") {
      out_.json += "\"0s\"";
    } else if (name == "google.protobuf.FieldMask") {
      out_.json += "\"\"";
    } else if (name == "google.protobuf.Struct" ||
               name == "google.protobuf.Empty") {
      out_.json += "{}";
    } else if (name == "google.protobuf.Value") {
      out_.json += "null";
    } else if (name == "google.protobuf.ListValue") {
      out_.json += "[]";
    } else if (message.file()->name() == "google/protobuf/wrappers.proto") {
      Scalar(*message.FindFieldByName("value"), "");
    } else {
      return false;
    }
    return true;
  }

  void Message(const Descriptor& message, const std::string& path, int depth) {
    if (WellKnown(message)) return;
    // A message that contains itself ends the recursion as an empty object.
    if (!on_stack_.insert(message.full_name()).second) {
      out_.json += "{}";
      return;
    }
    std::vector<const FieldDescriptor*> fields;
    for (int i = 0; i < message.field_count(); ++i) {
      if (Included(*message.field(i))) fields.push_back(message.field(i));
    }
    for (int i = 0; i < message.oneof_decl_count(); ++i) {
      const auto* oneof = message.oneof_decl(i);
      if (oneof->is_synthetic()) continue;  // a proto3 `optional`
      std::vector<std::string> choices;
      for (int j = 0; j < oneof->field_count(); ++j) {
        if (!IsOutputOnly(*oneof->field(j))) {
          choices.push_back(oneof->field(j)->json_name());
        }
      }
      if (choices.size() > 1) {
        out_.notes.push_back(absl::StrCat(path, path.empty() ? "" : ".",
                                          oneof->name(), ": one of ",
                                          absl::StrJoin(choices, " | ")));
      }
    }
    if (fields.empty()) {
      out_.json += "{}";
      on_stack_.erase(message.full_name());
      return;
    }
    out_.json += "{\n";
    for (size_t i = 0; i < fields.size(); ++i) {
      const FieldDescriptor& field = *fields[i];
      Indent(depth + 1);
      absl::StrAppend(&out_.json, "\"", field.json_name(), "\": ");
      const std::string field_path =
          absl::StrCat(path, path.empty() ? "" : ".", field.json_name());
      Field(field, field_path, depth + 1);
      out_.json += i + 1 < fields.size() ? ",\n" : "\n";
    }
    Indent(depth);
    out_.json += "}";
    on_stack_.erase(message.full_name());
  }

  void Field(const FieldDescriptor& field, const std::string& path, int depth) {
    if (field.is_map()) {
      const FieldDescriptor& key = *field.message_type()->map_key();
      const FieldDescriptor& value = *field.message_type()->map_value();
      out_.json += "{";
      out_.json += key.cpp_type() == FieldDescriptor::CPPTYPE_STRING ? "\"key\""
                                                                     : "\"0\"";
      out_.json += ": ";
      Single(value, absl::StrCat(path, "{}"), depth);
      out_.json += "}";
      return;
    }
    if (field.is_repeated()) {
      out_.json += "[";
      Single(field, absl::StrCat(path, "[]"), depth);
      out_.json += "]";
      return;
    }
    Single(field, path, depth);
  }

  void Single(const FieldDescriptor& field, const std::string& path,
              int depth) {
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message(*field.message_type(), path, depth);
    } else {
      Scalar(field, path);
    }
  }

  void Scalar(const FieldDescriptor& field, const std::string& path) {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        out_.json +=
            field.type() == FieldDescriptor::TYPE_BYTES ? "\"\"" : "\"string\"";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        out_.json += "0";
        break;
      // The JSON mapping writes 64-bit integers as strings.
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        out_.json += "\"0\"";
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
      case FieldDescriptor::CPPTYPE_DOUBLE:
        out_.json += "0.0";
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_.json += "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        // The first meaningful value; *_UNSPECIFIED is no useful example.
        const auto* type = field.enum_type();
        const auto* example = type->value(0);
        std::vector<std::string> names;
        for (int i = 0; i < type->value_count(); ++i) {
          if (type->value(i)->number() == 0 && type->value_count() > 1) {
            continue;
          }
          if (names.empty()) example = type->value(i);
          names.push_back(type->value(i)->name());
        }
        absl::StrAppend(&out_.json, "\"", example->name(), "\"");
        if (!path.empty() && names.size() > 1) {
          out_.notes.push_back(
              absl::StrCat(path, ": ", absl::StrJoin(names, " | ")));
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  const JsonTemplateOptions& options_;
  JsonTemplate out_;
  std::set<std::string> on_stack_;
};

}  // namespace

bool IsOutputOnly(const FieldDescriptor& field) {
  return HasBehavior(field, google::api::OUTPUT_ONLY);
}

JsonTemplate MakeJsonTemplate(const Descriptor& message,
                              const JsonTemplateOptions& options) {
  return TemplateWriter(options).Write(message);
}

}  // namespace accord::cli
