// accordctl: the command-line client for operators and analysts.
//
//   accordctl get institutions/tums
//   accordctl list agreements --filter 'party_country_codes: "IR"' --all
//   accordctl create institutions institution.json --id tums
//   accordctl update agreements/x patch.json --mask titles,keywords
//   accordctl delete|undelete NAME [--etag E]
//   accordctl record-action agreements/x action.json
//   accordctl transition agreements/x/milestones/m achieved --date 2025-06-01
//   accordctl deliveries subscriptions/s --dead-letters
//   accordctl redrive subscriptions/s
//   accordctl search "tehran university"
//   accordctl import examples/seed
//   accordctl watch --types 'accord.agreement.v1.*' [--from POSITION]
//   accordctl call MethodName '{"json": "request"}'
//   accordctl help VERB
//
// Input and output use the protobuf JSON mapping. Errors print the gRPC code
// and each field at fault, once, and exit non-zero.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "cli/command_line.h"
#include "cli/importer.h"
#include "cli/json_template.h"
#include "cli/rpc_client.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/errors.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace accord::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

struct Options {
  // Defaults: the ports the services listen on by default, on this machine.
  std::string institution_target = "127.0.0.1:50051";
  std::string agreement_target = "127.0.0.1:50052";
  std::string notification_target = "127.0.0.1:50053";
  absl::Duration deadline = absl::Seconds(10);
  std::string output = "json";
  std::string token;
  std::string credentials_file;
  // Verb options.
  std::string filter;
  std::string order_by;
  int64_t page_size = 0;
  std::string page_token;
  bool all = false;
  bool show_deleted = false;
  bool dead_letters = false;
  std::string id;
  std::string mask;
  std::string etag;
  std::string request_id;
  std::string from;
  std::string types;
  std::string date;
  std::string session;
  std::string start_time;
  std::string end_time;
  int64_t max = 0;
};

// Global flags, the only ones also read from the environment: a stray
// ACCORD_FILTER or ACCORD_ID must not change what a verb does.
const std::set<std::string>& EnvironmentFlags() {
  static const auto* flags = new std::set<std::string>{
      "institution-target", "agreement-target", "notification-target",
      "deadline",           "output",           "token",
      "credentials-file"};
  return *flags;
}

constexpr char kUsage[] = R"(Usage: accordctl [flags] VERB [ARGS]

Verbs (accordctl help VERB, or VERB --help, for one verb's flags and its
JSON template):
  get NAME                      show one resource (institutions/x, agreements/x,
                                committees/x/sessions/18, subscriptions/x, ...)
  list COLLECTION               list institutions|officials|agreements|committees|
                                subscriptions, or PARENT/sessions,
                                PARENT/milestones, SUBSCRIPTION/deliveries
  create COLLECTION FILE|-      create from JSON
  update NAME FILE|-            update the fields in --mask (default: fields set)
  delete NAME | undelete NAME   soft-delete or restore
  record-action AGREEMENT FILE|-  append a lifecycle step (AgreementAction JSON)
  transition MILESTONE STATE    move a milestone to a new state on a date
  deliveries SUBSCRIPTION       list a subscription's webhook deliveries
  dead-letters SUBSCRIPTION     list only its dead-lettered deliveries
  redrive SUBSCRIPTION          send its dead-lettered deliveries again
  retry DELIVERY                send one delivery again
  event-types                   list the event types watch and subscriptions take
  search QUERY                  find institutions by any name, in any script
  import PATH                   load a data set (a file or a folder of *.json)
  watch                         print events as they arrive
  call METHOD JSON              call any unary method with a JSON request
  make-key PRINCIPAL ROLES [INSTITUTION...]
                                add a principal with a new API key to
                                --credentials-file and print its token
  help [VERB]                   this text, or one verb's

Global flags (each also from the environment variable shown):
  --institution-target HOST:PORT   ACCORD_INSTITUTION_TARGET (127.0.0.1:50051)
  --agreement-target HOST:PORT     ACCORD_AGREEMENT_TARGET   (127.0.0.1:50052)
  --notification-target HOST:PORT  ACCORD_NOTIFICATION_TARGET (127.0.0.1:50053)
  --deadline DURATION              ACCORD_DEADLINE (10s)
  --output json|table              ACCORD_OUTPUT (json: one resource per line;
                                   table: tab-separated, with a header row)
  --token TOKEN                    ACCORD_TOKEN (sent as a bearer token)
  --credentials-file PATH          ACCORD_CREDENTIALS_FILE (for make-key)
  --help                           this text (also: accordctl VERB --help)

Every flag takes its value as --flag VALUE or --flag=VALUE, before or after
the verb; "--" ends the flags. Flags are spelled with hyphens; the underscore
spellings of earlier versions (--institution_target, --page_size, ...) still
work.
)";

// What each verb flag means, for `help VERB`.
struct FlagDoc {
  const char* name;
  const char* value;  // "" for a switch
  const char* help;
};

constexpr FlagDoc kFlagDocs[] = {
    {"filter", "F", "AIP-160 filter, e.g. 'kind = KIND_TREATY'"},
    {"order-by", "O", "order, e.g. 'signing_date desc'"},
    {"page-size", "N", "results per page (the service's default when 0)"},
    {"page-token", "T", "the page to start at, from the previous page's hint"},
    {"all", "", "follow every page"},
    {"show-deleted", "", "include soft-deleted resources"},
    {"dead-letters", "", "only dead-lettered deliveries"},
    {"id", "ID", "the new resource's id (generated when absent)"},
    {"mask", "a,b", "the fields to update, comma-separated"},
    {"etag", "E", "write only if the resource still has this etag"},
    {"request-id", "R", "idempotency key: a retry returns the first result"},
    {"date", "YYYY-MM-DD", "the transition's date (default: today, UTC)"},
    {"session", "S", "the session that recorded the transition"},
    {"start-time", "RFC3339", "only dead letters of events at or after this"},
    {"end-time", "RFC3339", "only dead letters of events before this"},
    {"max", "N", "the most deliveries to redrive in one call (service: 1000)"},
    {"types", "a.*,b", "event types or prefixes ending in .* (event-types)"},
    {"from", "P", "start after position P, or earliest, or now (default)"},
};

// How a verb is used, for `help VERB` and for a wrong number of arguments.
struct Verb {
  const char* name;
  const char* synopsis;
  const char* description;
  std::vector<const char*> flags;
  size_t min_args;
  size_t max_args;
};

const std::vector<Verb>& Verbs() {
  static const auto* verbs = new std::vector<Verb>{
      {"get", "get NAME", "Shows one resource, found by its name.", {}, 1, 1},
      {"list",
       "list COLLECTION",
       "Lists a collection: institutions, officials, agreements, committees,\n"
       "subscriptions, PARENT/sessions, PARENT/milestones (PARENT may be\n"
       "agreements/- or committees/- for all), SUBSCRIPTION/deliveries.\n"
       "When more pages remain, the command for the next one is printed on\n"
       "standard error.",
       {"filter", "order-by", "page-size", "page-token", "all", "show-deleted"},
       1,
       1},
      {"create",
       "create COLLECTION FILE|-",
       "Creates a resource from a JSON file (- reads standard input).\n"
       "COLLECTION may be PARENT/sessions or PARENT/milestones.",
       {"id", "request-id"},
       2,
       2},
      {"update",
       "update NAME FILE|-",
       "Updates the fields named in --mask (default: the fields the JSON\n"
       "sets) from a JSON file; the name comes from NAME.",
       {"mask", "etag", "request-id"},
       2,
       2},
      {"delete", "delete NAME", "Soft-deletes a resource (undelete restores).",
       std::vector<const char*>{"etag", "request-id"}, 1, 1},
      {"undelete", "undelete NAME", "Restores a soft-deleted resource.",
       std::vector<const char*>{"etag", "request-id"}, 1, 1},
      {"record-action",
       "record-action AGREEMENT FILE|-",
       "Appends a lifecycle step (signature, consent, ...) to an agreement.",
       {"etag", "request-id"},
       2,
       2},
      {"transition",
       "transition MILESTONE STATE",
       "Moves a milestone to a new state (TransitionMilestone): proposed,\n"
       "planned, in-progress, achieved or cancelled (or STATE_ACHIEVED ...).",
       {"date", "session", "etag", "request-id"},
       2,
       2},
      {"deliveries",
       "deliveries SUBSCRIPTION",
       "Lists a subscription's webhook deliveries, newest first.",
       {"dead-letters", "filter", "page-size", "page-token", "all"},
       1,
       1},
      {"dead-letters",
       "dead-letters SUBSCRIPTION",
       "Lists a subscription's dead-lettered deliveries, newest first\n"
       "(deliveries --dead-letters); redrive sends them again.",
       {"filter", "page-size", "page-token", "all"},
       1,
       1},
      {"redrive",
       "redrive SUBSCRIPTION",
       "Sends a subscription's dead-lettered deliveries again, in stream\n"
       "order (RedriveDeadLetters), and prints each one sent. When the limit\n"
       "leaves some, the command to continue is printed on standard error.",
       {"start-time", "end-time", "max"},
       1,
       1},
      {"retry", "retry DELIVERY",
       "Sends one delivery again (RetryDelivery), with fresh attempts.",
       std::vector<const char*>{}, 1, 1},
      {"event-types", "event-types",
       "Lists the event types watch --types and subscriptions accept.",
       std::vector<const char*>{}, 0, 0},
      {"search", "search QUERY",
       "Finds institutions by any of their names, in any script.",
       std::vector<const char*>{"filter", "page-size"}, 1, 1},
      {"import", "import PATH",
       "Loads a data set: a JSON file, or every *.json file of a folder.",
       std::vector<const char*>{}, 1, 1},
      {"watch",
       "watch",
       "Prints events as they arrive, until interrupted. An unknown event\n"
       "type is refused at once with the list of valid ones.",
       {"types", "filter", "from"},
       0,
       0},
      {"call",
       "call METHOD JSON",
       "Calls any unary method by name with a JSON request\n"
       "(accordctl help call METHOD prints the request's template).",
       {},
       2,
       2},
      {"make-key",
       "make-key PRINCIPAL ROLES [INSTITUTION...]",
       "Adds a principal (roles: viewer, editor, subscriber, admin,\n"
       "comma-separated) with a new API key to --credentials-file and prints\n"
       "its token, which is stored nowhere else.",
       {},
       2,
       1000},
  };
  return *verbs;
}

const Verb* FindVerb(absl::string_view name) {
  for (const Verb& verb : Verbs()) {
    if (verb.name == name) return &verb;
  }
  return nullptr;
}

std::string VerbUsageLine(const Verb& verb) {
  std::string line = absl::StrCat("accordctl ", verb.synopsis);
  for (const char* flag : verb.flags) {
    for (const FlagDoc& doc : kFlagDocs) {
      if (absl::string_view(doc.name) != flag) continue;
      absl::StrAppend(&line, " [--", doc.name, *doc.value ? " " : "", doc.value,
                      "]");
    }
  }
  return line;
}

// Resource-name collection → singular and plural type names.
struct Collection {
  std::string type;    // "Institution"
  std::string plural;  // "Institutions"
};

absl::StatusOr<Collection> CollectionOf(absl::string_view collection_path) {
  static const std::map<std::string, Collection> kCollections = {
      {"institutions", {"Institution", "Institutions"}},
      {"officials", {"Official", "Officials"}},
      {"agreements", {"Agreement", "Agreements"}},
      {"committees", {"Committee", "Committees"}},
      {"sessions", {"Session", "Sessions"}},
      {"milestones", {"Milestone", "Milestones"}},
      {"subscriptions", {"Subscription", "Subscriptions"}},
      {"deliveries", {"Delivery", "Deliveries"}},
  };
  const std::vector<std::string> parts = absl::StrSplit(collection_path, '/');
  const auto found = kCollections.find(parts.back());
  if (found == kCollections.end()) {
    std::vector<std::string> known;
    for (const auto& [name, collection] : kCollections) known.push_back(name);
    return absl::InvalidArgumentError(
        absl::StrCat("unknown collection \"", parts.back(),
                     "\" (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return found->second;
}

// "committees/jec/sessions/18" → collection "sessions"; "institutions/x" →
// "institutions".
absl::StatusOr<Collection> CollectionOfName(absl::string_view name) {
  const std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() < 2 || parts.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a resource name"));
  }
  return CollectionOf(parts[parts.size() - 2]);
}

// The field of a Create/Update request that holds the resource:
// "Institution" → "institution".
std::string ResourceField(const Collection& collection) {
  return absl::AsciiStrToLower(collection.type);
}

std::string ReadInput(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream file(path);
    if (!file) return "";
    text << file.rdbuf();
  }
  return text.str();
}

std::string ToJson(const Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// One column of --output=table: a header and how to read its cell.
struct Column {
  std::string header;
  std::function<std::string(const Message&)> cell;
};

// The columns a resource type shows, from its descriptor, so every row of a
// listing has the same cells under one header: name, a title, kind, state,
// event type and dates, whichever the type has.
std::vector<Column> ColumnsFor(const Descriptor& descriptor) {
  std::vector<Column> columns;
  auto string_column = [&](const char* field_name) {
    const FieldDescriptor* field = descriptor.FindFieldByName(field_name);
    if (field == nullptr || field->is_repeated() ||
        field->type() != FieldDescriptor::TYPE_STRING) {
      return;
    }
    columns.push_back(
        {absl::AsciiStrToUpper(field_name), [field](const Message& message) {
           return message.GetReflection()->GetString(message, field);
         }});
  };
  string_column("name");
  for (const char* list : {"names", "titles"}) {
    const FieldDescriptor* field = descriptor.FindFieldByName(list);
    if (field == nullptr || !field->is_repeated() ||
        field->message_type() == nullptr ||
        field->message_type()->FindFieldByName("text") == nullptr) {
      continue;
    }
    columns.push_back({"TITLE", [field](const Message& message) {
                         const auto* reflection = message.GetReflection();
                         if (reflection->FieldSize(message, field) == 0) {
                           return std::string();
                         }
                         const Message& first =
                             reflection->GetRepeatedMessage(message, field, 0);
                         return first.GetReflection()->GetString(
                             first,
                             first.GetDescriptor()->FindFieldByName("text"));
                       }});
    break;
  }
  if (descriptor.FindFieldByName("names") == nullptr &&
      descriptor.FindFieldByName("titles") == nullptr) {
    string_column("display_name");
  }
  for (const char* enum_name : {"kind", "state"}) {
    const FieldDescriptor* field = descriptor.FindFieldByName(enum_name);
    if (field == nullptr || field->is_repeated() ||
        field->type() != FieldDescriptor::TYPE_ENUM) {
      continue;
    }
    columns.push_back(
        {absl::AsciiStrToUpper(enum_name), [field](const Message& message) {
           return message.GetReflection()->GetEnum(message, field)->name();
         }});
  }
  for (const char* field_name :
       {"event_type", "signing_date", "start_date", "due_date"}) {
    string_column(field_name);
  }
  return columns;
}

// Prints resources one per line: JSON, or table rows under a header row
// printed before the first one.
class Printer {
 public:
  explicit Printer(bool table) : table_(table) {}

  void Print(const Message& message) {
    if (!table_) {
      std::cout << ToJson(message) << "\n";
      return;
    }
    if (descriptor_ != message.GetDescriptor()) {
      descriptor_ = message.GetDescriptor();
      columns_ = ColumnsFor(*descriptor_);
      if (!columns_.empty()) {
        std::vector<std::string> headers;
        for (const Column& column : columns_) headers.push_back(column.header);
        std::cout << absl::StrJoin(headers, "\t") << "\n";
      }
    }
    // A message with no known columns (a query's response) stays JSON.
    if (columns_.empty()) {
      std::cout << ToJson(message) << "\n";
      return;
    }
    std::vector<std::string> cells;
    for (const Column& column : columns_) {
      std::string cell = column.cell(message);
      cells.push_back(cell.empty() ? "-" : cell);
    }
    std::cout << absl::StrJoin(cells, "\t") << "\n";
  }

  // A table of plain cells under `headers` (search, watch, event types).
  void Row(const std::vector<std::string>& headers,
           const std::vector<std::string>& cells) {
    if (!header_printed_) {
      std::cout << absl::StrJoin(headers, "\t") << "\n";
      header_printed_ = true;
    }
    std::cout << absl::StrJoin(cells, "\t") << std::endl;
  }

 private:
  bool table_;
  const Descriptor* descriptor_ = nullptr;
  std::vector<Column> columns_;
  bool header_printed_ = false;
};

// Sets a singular string, int32 or bool field by name, when the message has
// it; false when it has none of that name.
bool SetField(Message& message, const std::string& name,
              const std::string& value) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated()) return false;
  const auto* reflection = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(&message, field, value);
      return true;
    case FieldDescriptor::CPPTYPE_INT32:
      reflection->SetInt32(&message, field, std::stoi(value));
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      reflection->SetBool(&message, field, value == "true");
      return true;
    default:
      return false;
  }
}

class Ctl {
 public:
  Ctl(const Options& options, std::string program,
      std::vector<std::string> replay_flags)
      : options_(options),
        program_(std::move(program)),
        replay_flags_(std::move(replay_flags)),
        client_({{"accord.institution.v1.InstitutionService",
                  Channel(options.institution_target)},
                 {"accord.agreement.v1.AgreementService",
                  Channel(options.agreement_target)},
                 {"accord.notification.v1.NotificationService",
                  Channel(options.notification_target)}},
                options.deadline, options.token),
        printer_(options.output == "table") {}

  int Run(const std::vector<std::string>& words) {
    words_ = words;  // repeated by the commands printed as hints
    const std::string& name = words[0];
    if (name == "help") {
      return Help(std::vector<std::string>(words.begin() + 1, words.end()));
    }
    const Verb* verb = FindVerb(name);
    if (verb == nullptr) {
      std::cerr << "accordctl: unknown verb \"" << name
                << "\"; see accordctl --help\n";
      return kExitUsage;
    }
    const std::vector<std::string> args(words.begin() + 1, words.end());
    if (args.size() < verb->min_args || args.size() > verb->max_args) {
      std::cerr << "accordctl: usage: " << VerbUsageLine(*verb)
                << " (accordctl help " << verb->name << ")\n";
      return kExitUsage;
    }
    if (name == "get") return Get(args[0]);
    if (name == "list") return List(args[0], "");
    if (name == "create") return Create(args[0], args[1]);
    if (name == "update") return Update(args[0], args[1]);
    if (name == "delete" || name == "undelete") {
      return ChangeLiveness(name, args[0]);
    }
    if (name == "record-action") return RecordAction(args[0], args[1]);
    if (name == "transition") return Transition(args[0], args[1]);
    if (name == "deliveries") {
      return List(absl::StrCat(args[0], "/deliveries"),
                  options_.dead_letters ? kDeadLettered : "");
    }
    if (name == "dead-letters") {
      return List(absl::StrCat(args[0], "/deliveries"), kDeadLettered);
    }
    if (name == "redrive") return Redrive(args[0]);
    if (name == "retry") return Retry(args[0]);
    if (name == "event-types") return ListEventTypes();
    if (name == "search") return Search(args[0]);
    if (name == "import") return Import(args[0]);
    if (name == "watch") return Watch();
    if (name == "call") return Call(args[0], args[1]);
    return MakeKey(args);  // make-key
  }

  // `help`, `help VERB [ARG]`, `VERB [ARG] --help`.
  int Help(const std::vector<std::string>& words) {
    if (words.empty() || words[0] == "help") {
      std::cout << kUsage;
      return 0;
    }
    const Verb* verb = FindVerb(words[0]);
    if (verb == nullptr) {
      std::cerr << "accordctl: unknown verb \"" << words[0]
                << "\"; see accordctl --help\n";
      return kExitUsage;
    }
    std::cout << "Usage: " << VerbUsageLine(*verb) << "\n\n"
              << verb->description << "\n";
    if (!verb->flags.empty()) {
      std::cout << "\nFlags (--flag VALUE or --flag=VALUE):\n";
      for (const char* flag : verb->flags) {
        for (const FlagDoc& doc : kFlagDocs) {
          if (absl::string_view(doc.name) != flag) continue;
          std::string spelled =
              absl::StrCat("--", doc.name, *doc.value ? " " : "", doc.value);
          spelled.resize(std::max<size_t>(spelled.size(), 26), ' ');
          std::cout << "  " << spelled << " " << doc.help << "\n";
        }
      }
    }
    std::cout << "\nGlobal flags (targets, --token, --output): accordctl "
                 "--help\n";
    return BodyHelp(*verb, words.size() > 1 ? words[1] : "");
  }

 private:
  static constexpr char kDeadLettered[] = "state = STATE_DEAD_LETTERED";

  static std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }

  // The request body a verb reads, with a template from its descriptor.
  int BodyHelp(const Verb& verb, const std::string& arg) {
    const std::string name = verb.name;
    const Descriptor* body = nullptr;
    std::string what;
    JsonTemplateOptions template_options;
    if (name == "create" || name == "update") {
      if (arg.empty()) {
        std::cout << "\nFor the JSON template of a collection's resources: "
                     "accordctl help "
                  << name << " COLLECTION (institutions, officials, "
                  << "agreements, committees, PARENT/sessions, "
                     "PARENT/milestones, subscriptions)\n";
        return 0;
      }
      auto collection =
          name == "create" ? CollectionOf(arg) : CollectionOfName(arg);
      if (!collection.ok()) return Fail(collection.status());
      auto method = client_.FindMethod(absl::StrCat(
          name == "create" ? "Create" : "Update", collection->type));
      if (!method.ok()) return Fail(method.status());
      const FieldDescriptor* field =
          (*method)->input_type()->FindFieldByName(ResourceField(*collection));
      if (field == nullptr) return 0;
      body = field->message_type();
      template_options.omit_identifier = true;
    } else if (name == "record-action") {
      auto method = client_.FindMethod("RecordAgreementAction");
      if (!method.ok()) return Fail(method.status());
      body = (*method)->input_type()->FindFieldByName("action")->message_type();
    } else if (name == "call") {
      if (arg.empty()) {
        std::cout << "\nFor the JSON template of a method's request: "
                     "accordctl help call METHOD\n";
        return 0;
      }
      auto method = client_.FindMethod(arg);
      if (!method.ok()) return Fail(method.status());
      body = (*method)->input_type();
    } else {
      return 0;
    }
    const JsonTemplate json = MakeJsonTemplate(*body, template_options);
    std::cout << "\nRequest body (" << body->full_name()
              << "), every field a caller may set:\n"
              << json.json;
    if (!json.notes.empty()) {
      std::cout << "\nValues:\n";
      for (const std::string& note : json.notes) {
        std::cout << "  " << note << "\n";
      }
    }
    return 0;
  }

  int Fail(const absl::Status& status) {
    std::cout.flush();  // what was printed comes before the error
    std::cerr << "accordctl: " << DescribeStatus(status) << "\n";
    return kExitFailed;
  }

  // Builds a request for `method` from JSON, then calls it.
  absl::StatusOr<std::unique_ptr<Message>> CallWith(
      const std::string& method_name, const std::string& request_json) {
    auto method = client_.FindMethod(method_name);
    if (!method.ok()) return method.status();
    std::unique_ptr<Message> request = client_.NewRequest(**method);
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        request_json, request.get());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad JSON for ", (*method)->input_type()->full_name(),
                       ": ", parsed.message().as_string()));
    }
    return client_.Call(**method, *request);
  }

  static std::string Quoted(absl::string_view text) {
    std::string json = "\"";
    for (const char c : text) {
      if (c == '"' || c == '\\') json += '\\';
      json += c;
    }
    return json + "\"";
  }

  // The command line that repeats this one with `flag` set (the replay
  // drops the bearer token, which is never printed, and `flag` itself).
  std::string CommandWith(const std::vector<std::string>& words,
                          const std::string& flag, const std::string& value) {
    std::vector<std::string> parts = {ShellQuote(program_)};
    for (const std::string& word : words) parts.push_back(ShellQuote(word));
    for (const std::string& replayed : replay_flags_) {
      if (absl::StartsWith(replayed, absl::StrCat("--", flag, "="))) continue;
      parts.push_back(ShellQuote(replayed));
    }
    parts.push_back(ShellQuote(absl::StrCat("--", flag, "=", value)));
    return absl::StrJoin(parts, " ");
  }

  int Get(const std::string& name) {
    auto collection = CollectionOfName(name);
    if (!collection.ok()) return Fail(collection.status());
    auto response = CallWith(absl::StrCat("Get", collection->type),
                             absl::StrCat("{\"name\":", Quoted(name), "}"));
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  // Lists `path` (a collection, under a parent or not); `fixed_filter` is
  // ANDed with --filter.
  int List(const std::string& path, const std::string& fixed_filter) {
    auto collection = CollectionOf(path);
    if (!collection.ok()) return Fail(collection.status());
    auto method = client_.FindMethod(absl::StrCat("List", collection->plural));
    if (!method.ok()) return Fail(method.status());
    std::string filter = options_.filter;
    if (!fixed_filter.empty()) {
      filter = filter.empty()
                   ? fixed_filter
                   : absl::StrCat("(", filter, ") AND ", fixed_filter);
    }
    std::unique_ptr<Message> request = client_.NewRequest(**method);
    const size_t slash = path.rfind('/');
    const std::vector<std::pair<std::string, std::string>> fields = {
        {"parent", slash == std::string::npos ? "" : path.substr(0, slash)},
        {"filter", filter},
        {"order_by", options_.order_by},
        {"page_size",
         options_.page_size == 0 ? "" : absl::StrCat(options_.page_size)},
        {"show_deleted", options_.show_deleted ? "true" : ""},
    };
    for (const auto& [field, value] : fields) {
      if (value.empty()) continue;
      if (!SetField(*request, field, value)) {
        std::cerr << "accordctl: listing " << collection->plural
                  << " takes no --" << absl::StrReplaceAll(field, {{"_", "-"}})
                  << "\n";
        return kExitUsage;
      }
    }
    std::string token = options_.page_token;
    do {
      SetField(*request, "page_token", token);
      auto response = client_.Call(**method, *request);
      if (!response.ok()) return Fail(response.status());
      const auto* descriptor = (*response)->GetDescriptor();
      const auto* reflection = (*response)->GetReflection();
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const auto* field = descriptor->field(i);
        if (!field->is_repeated() ||
            field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          continue;
        }
        for (int j = 0; j < reflection->FieldSize(**response, field); ++j) {
          printer_.Print(reflection->GetRepeatedMessage(**response, field, j));
        }
      }
      token = reflection->GetString(
          **response, descriptor->FindFieldByName("next_page_token"));
    } while (options_.all && !token.empty());
    if (!token.empty()) {
      // The command on a line of its own, ready to paste.
      std::cout.flush();
      std::cerr << "next page (or add --all for every page):\n"
                << CommandWith(words_, "page-token", token) << "\n";
    }
    return 0;
  }

  int Create(const std::string& path, const std::string& file) {
    auto collection = CollectionOf(path);
    if (!collection.ok()) return Fail(collection.status());
    const std::string body = ReadInput(file);
    if (body.empty()) return Fail(absl::NotFoundError("cannot read " + file));
    const std::string singular = ResourceField(*collection);
    std::string request =
        absl::StrCat("{\"", singular, "\":", body, ",\"", singular,
                     "Id\":", Quoted(options_.id),
                     ",\"requestId\":", Quoted(options_.request_id));
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      absl::StrAppend(&request, ",\"parent\":", Quoted(path.substr(0, slash)));
    }
    request += "}";
    auto response = CallWith(absl::StrCat("Create", collection->type), request);
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  int Update(const std::string& name, const std::string& file) {
    auto collection = CollectionOfName(name);
    if (!collection.ok()) return Fail(collection.status());
    const std::string body = ReadInput(file);
    if (body.empty()) return Fail(absl::NotFoundError("cannot read " + file));
    const std::string singular = ResourceField(*collection);
    // The name and etag go into the resource itself, as AIP-134 asks.
    auto method = client_.FindMethod(absl::StrCat("Update", collection->type));
    if (!method.ok()) return Fail(method.status());
    std::unique_ptr<Message> request = client_.NewRequest(**method);
    const std::string json = absl::StrCat(
        "{\"", singular, "\":", body, ",\"updateMask\":", Quoted(options_.mask),
        ",\"requestId\":", Quoted(options_.request_id), "}");
    if (auto parsed =
            google::protobuf::util::JsonStringToMessage(json, request.get());
        !parsed.ok()) {
      return Fail(absl::InvalidArgumentError(parsed.message().as_string()));
    }
    const auto* resource_field =
        request->GetDescriptor()->FindFieldByName(singular);
    Message* resource =
        request->GetReflection()->MutableMessage(request.get(), resource_field);
    SetField(*resource, "name", name);
    if (!options_.etag.empty()) SetField(*resource, "etag", options_.etag);
    auto response = client_.Call(**method, *request);
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  int ChangeLiveness(const std::string& verb, const std::string& name) {
    auto collection = CollectionOfName(name);
    if (!collection.ok()) return Fail(collection.status());
    auto response = CallWith(
        absl::StrCat(verb == "delete" ? "Delete" : "Undelete",
                     collection->type),
        absl::StrCat("{\"name\":", Quoted(name),
                     ",\"etag\":", Quoted(options_.etag),
                     ",\"requestId\":", Quoted(options_.request_id), "}"));
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  int RecordAction(const std::string& agreement, const std::string& file) {
    const std::string body = ReadInput(file);
    if (body.empty()) return Fail(absl::NotFoundError("cannot read " + file));
    auto response = CallWith(
        "RecordAgreementAction",
        absl::StrCat("{\"agreement\":", Quoted(agreement), ",\"action\":", body,
                     ",\"etag\":", Quoted(options_.etag),
                     ",\"requestId\":", Quoted(options_.request_id), "}"));
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  // TransitionMilestone. STATE is the enum value with or without its
  // STATE_ prefix, any case, hyphens for underscores.
  int Transition(const std::string& milestone, const std::string& state) {
    auto method = client_.FindMethod("TransitionMilestone");
    if (!method.ok()) return Fail(method.status());
    const auto* state_type = (*method)
                                 ->input_type()
                                 ->FindFieldByName("transition")
                                 ->message_type()
                                 ->FindFieldByName("state")
                                 ->enum_type();
    std::string value = absl::AsciiStrToUpper(state);
    std::replace(value.begin(), value.end(), '-', '_');
    if (!absl::StartsWith(value, "STATE_")) value = "STATE_" + value;
    if (state_type->FindValueByName(value) == nullptr ||
        value == "STATE_UNSPECIFIED") {
      std::vector<std::string> states;
      for (int i = 1; i < state_type->value_count(); ++i) {
        states.push_back(
            absl::StrReplaceAll(absl::AsciiStrToLower(absl::StripPrefix(
                                    state_type->value(i)->name(), "STATE_")),
                                {{"_", "-"}}));
      }
      std::cerr << "accordctl: unknown milestone state \"" << state
                << "\" (one of " << absl::StrJoin(states, ", ") << ")\n";
      return kExitUsage;
    }
    // Default: today in UTC, the date the services' clocks use.
    const std::string date =
        options_.date.empty()
            ? absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone())
            : options_.date;
    auto response = CallWith(
        "TransitionMilestone",
        absl::StrCat("{\"name\":", Quoted(milestone),
                     ",\"transition\":{\"state\":", Quoted(value),
                     ",\"transitionDate\":", Quoted(date),
                     ",\"session\":", Quoted(options_.session),
                     "},\"etag\":", Quoted(options_.etag),
                     ",\"requestId\":", Quoted(options_.request_id), "}"));
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  int Redrive(const std::string& subscription) {
    std::string request = absl::StrCat("{\"parent\":", Quoted(subscription),
                                       ",\"maxDeliveries\":", options_.max);
    if (!options_.start_time.empty()) {
      absl::StrAppend(&request, ",\"startTime\":", Quoted(options_.start_time));
    }
    if (!options_.end_time.empty()) {
      absl::StrAppend(&request, ",\"endTime\":", Quoted(options_.end_time));
    }
    auto response = CallWith("RedriveDeadLetters", request + "}");
    if (!response.ok()) return Fail(response.status());
    const auto& redriven =
        static_cast<const notification::v1::RedriveDeadLettersResponse&>(
            **response);
    if (options_.output == "table") {
      for (const std::string& delivery : redriven.deliveries()) {
        printer_.Row({"DELIVERY"}, {delivery});
      }
    } else {
      std::cout << ToJson(redriven) << "\n";
    }
    std::cout.flush();
    std::cerr << "redriven: " << redriven.deliveries_size() << "\n";
    if (redriven.has_next_start_time()) {
      std::cerr << "more remain; continue with:\n"
                << CommandWith(words_, "start-time",
                               google::protobuf::util::TimeUtil::ToString(
                                   redriven.next_start_time()))
                << "\n";
    }
    return 0;
  }

  int Retry(const std::string& delivery) {
    auto response = CallWith("RetryDelivery",
                             absl::StrCat("{\"name\":", Quoted(delivery), "}"));
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  absl::StatusOr<notification::v1::ListEventTypesResponse> EventTypes() {
    auto response = CallWith("ListEventTypes", "{}");
    if (!response.ok()) return response.status();
    return static_cast<const notification::v1::ListEventTypesResponse&>(
        **response);
  }

  int ListEventTypes() {
    auto types = EventTypes();
    if (!types.ok()) return Fail(types.status());
    for (const auto& type : types->event_types()) {
      if (options_.output == "table") {
        printer_.Row({"TYPE", "SOURCE", "DESCRIPTION"},
                     {type.type(), type.source(), type.description()});
      } else {
        std::cout << ToJson(type) << "\n";
      }
    }
    return 0;
  }

  // Refuses --types naming no event type, with the valid ones, before any
  // stream opens. Returns -1 when the types are fine (or cannot be checked
  // here, in which case the service judges them).
  int CheckWatchTypes(const std::vector<std::string>& wanted) {
    auto listed = EventTypes();
    if (!listed.ok()) {
      if (listed.status().code() == absl::StatusCode::kUnimplemented) {
        return -1;
      }
      return Fail(listed.status());
    }
    std::vector<std::string> unknown;
    for (const std::string& type : wanted) {
      const bool prefix = absl::EndsWith(type, ".*");
      const std::string stem =
          prefix ? type.substr(0, type.size() - 1) : type;  // keeps the dot
      bool known = false;
      for (const auto& candidate : listed->event_types()) {
        known = known || (prefix ? absl::StartsWith(candidate.type(), stem)
                                 : candidate.type() == type);
      }
      if (!known) unknown.push_back(absl::StrCat("\"", type, "\""));
    }
    if (unknown.empty()) return -1;
    std::cerr << "accordctl: INVALID_ARGUMENT: --types: "
              << absl::StrJoin(unknown, ", ")
              << (unknown.size() == 1 ? " is" : " are")
              << " not an event type or a prefix of one ending in \".*\"; "
                 "valid types:\n";
    for (const auto& type : listed->event_types()) {
      std::cerr << "  " << type.type() << "\n";
    }
    return kExitUsage;
  }

  int Search(const std::string& query) {
    auto response =
        CallWith("SearchInstitutions",
                 absl::StrCat("{\"query\":", Quoted(query),
                              ",\"filter\":", Quoted(options_.filter),
                              ",\"pageSize\":", options_.page_size, "}"));
    if (!response.ok()) return Fail(response.status());
    const auto& matches =
        static_cast<const institution::v1::SearchInstitutionsResponse&>(
            **response);
    for (const auto& match : matches.matches()) {
      if (options_.output == "table") {
        printer_.Row({"SCORE", "NAME", "MATCHED_NAME"},
                     {absl::StrCat(match.score()), match.institution().name(),
                      match.matched_name().text()});
      } else {
        std::cout << ToJson(match) << "\n";
      }
    }
    return 0;
  }

  int Import(const std::string& path) {
    ImportResult result;
    const absl::Status status = ImportPath(
        client_, path, result,
        [this](const std::string& method, const std::string& response) {
          if (options_.output == "table") {
            std::cerr << "  " << method << " ok\n";
          } else {
            std::cout << response << "\n";
          }
        });
    if (!status.ok()) return Fail(status);
    std::cerr << "imported " << result.calls << " calls from " << path << "\n";
    return 0;
  }

  int Watch() {
    notification::v1::WatchEventsRequest request;
    auto* selector = request.mutable_inline_selector();
    for (absl::string_view type :
         absl::StrSplit(options_.types, ',', absl::SkipEmpty())) {
      selector->add_event_types(std::string(absl::StripAsciiWhitespace(type)));
    }
    if (selector->event_types_size() > 0) {
      const int refused = CheckWatchTypes(
          {selector->event_types().begin(), selector->event_types().end()});
      if (refused >= 0) return refused;
    }
    selector->set_filter(options_.filter);
    request.set_start_position(options_.from);
    auto stub = notification::v1::NotificationService::NewStub(
        Channel(options_.notification_target));
    grpc::ClientContext context;
    if (!options_.token.empty()) {
      context.AddMetadata("authorization",
                          absl::StrCat("Bearer ", options_.token));
    }
    auto reader = stub->WatchEvents(&context, request);
    notification::v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      if (!response.has_event()) continue;  // started, heartbeats: quiet
      const auto& event = response.event();
      if (options_.output == "table") {
        printer_.Row({"POSITION", "TYPE", "SUBJECT"},
                     {event.position(), event.type(), event.subject()});
      } else {
        std::cout << ToJson(event) << std::endl;
      }
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return Fail(FromGrpcStatus(status));
    return 0;
  }

  // Adds a principal with a new API key to the credentials file (creating
  // it if needed) and prints the token, which is stored nowhere else.
  int MakeKey(const std::vector<std::string>& args) {
    if (options_.credentials_file.empty()) {
      std::cerr << "accordctl: make-key needs --credentials-file\n";
      return kExitUsage;
    }
    auth::v1::CredentialsFile file;
    {
      std::ifstream existing(options_.credentials_file);
      if (existing) {
        std::stringstream text;
        text << existing.rdbuf();
        const auto parsed =
            google::protobuf::util::JsonStringToMessage(text.str(), &file);
        if (!parsed.ok()) {
          return Fail(absl::InvalidArgumentError(parsed.message().as_string()));
        }
      }
    }
    auth::v1::PrincipalEntry* entry = file.add_principals();
    entry->set_id(args[0]);
    for (absl::string_view role : absl::StrSplit(args[1], ',')) {
      auth::v1::Role value;
      if (!auth::v1::Role_Parse(
              absl::StrCat("ROLE_", absl::AsciiStrToUpper(role)), &value)) {
        std::cerr << "accordctl: unknown role \"" << role
                  << "\" (viewer, editor, subscriber, admin)\n";
        return kExitUsage;
      }
      entry->add_roles(value);
    }
    for (size_t i = 2; i < args.size(); ++i) entry->add_institutions(args[i]);
    NewToken token =
        MakeToken(absl::StrCat(args[0], "-", file.principals_size()));
    *entry->add_api_keys() = token.key;
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(file, &json, print);
    std::ofstream out(options_.credentials_file, std::ios::trunc);
    out << json;
    if (!out)
      return Fail(absl::InternalError("cannot write the credentials file"));
    std::cout << token.token << "\n";
    return 0;
  }

  int Call(const std::string& method, const std::string& json) {
    auto response = CallWith(method, json);
    if (!response.ok()) return Fail(response.status());
    printer_.Print(**response);
    return 0;
  }

  const Options& options_;
  std::string program_;
  std::vector<std::string> replay_flags_;
  std::vector<std::string> words_;
  RpcClient client_;
  Printer printer_;
};

// Registers each flag with the FlagSet (which parses and checks values) and
// with the spelling rules of SplitCommandLine.
class Flags {
 public:
  explicit Flags(FlagSet& flags) : flags_(flags) {}

  void String(const char* name, std::string* value, const char* help) {
    flags_.AddString(name, value, help);
    specs_.push_back({name, true});
  }
  void HostPort(const char* name, std::string* value, const char* help) {
    flags_.AddHostPort(name, value, help);
    specs_.push_back({name, true});
  }
  void Int(const char* name, int64_t* value, int64_t min, int64_t max,
           const char* help) {
    flags_.AddInt(name, value, min, max, help);
    specs_.push_back({name, true});
  }
  void Bool(const char* name, bool* value, const char* help) {
    flags_.AddBool(name, value, help);
    specs_.push_back({name, false});
  }
  void Duration(const char* name, absl::Duration* value, const char* help) {
    flags_.AddDuration(name, value, help);
    specs_.push_back({name, true});
  }
  void Choice(const char* name, std::string* value,
              std::vector<std::string> choices, const char* help) {
    flags_.AddChoice(name, value, std::move(choices), help);
    specs_.push_back({name, true});
  }
  const std::vector<FlagSpec>& specs() const { return specs_; }

 private:
  FlagSet& flags_;
  std::vector<FlagSpec> specs_;
};

}  // namespace
}  // namespace accord::cli

int main(int argc, char** argv) {
  using accord::cli::kExitUsage;
  accord::cli::Options options;
  accord::FlagSet flag_set("accordctl", accord::cli::kUsage);
  accord::cli::Flags flags(flag_set);
  flags.HostPort("institution-target", &options.institution_target,
                 "institution service");
  flags.HostPort("agreement-target", &options.agreement_target,
                 "agreement service");
  flags.HostPort("notification-target", &options.notification_target,
                 "notification service");
  flags.Duration("deadline", &options.deadline, "per-call deadline");
  flags.Choice("output", &options.output, {"json", "table"}, "output format");
  flags.String("token", &options.token,
               "bearer token (ACCORD_TOKEN); never printed");
  flags.String("credentials-file", &options.credentials_file,
               "credentials file that make-key adds to");
  flags.String("filter", &options.filter, "AIP-160 filter");
  flags.String("order-by", &options.order_by, "order_by");
  flags.Int("page-size", &options.page_size, 0, 1000, "page size");
  flags.String("page-token", &options.page_token, "page to start at");
  flags.Bool("all", &options.all, "follow every page");
  flags.Bool("show-deleted", &options.show_deleted, "include soft-deleted");
  flags.Bool("dead-letters", &options.dead_letters, "dead letters only");
  flags.String("id", &options.id, "id for create");
  flags.String("mask", &options.mask, "update mask, comma-separated");
  flags.String("etag", &options.etag, "etag for a conditional write");
  flags.String("request-id", &options.request_id, "idempotency key");
  flags.String("from", &options.from, "watch start position");
  flags.String("types", &options.types, "event types to watch");
  flags.String("date", &options.date, "transition date");
  flags.String("session", &options.session, "transition session");
  flags.String("start-time", &options.start_time, "redrive range start");
  flags.String("end-time", &options.end_time, "redrive range end");
  flags.Int("max", &options.max, 0, 10000, "redrive limit");

  const absl::StatusOr<accord::cli::CommandLine> line =
      accord::cli::SplitCommandLine(
          std::vector<std::string>(argv + 1, argv + argc), flags.specs());
  if (!line.ok()) {
    std::cerr << "accordctl: " << line.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<std::string> flag_args;
  // The flags a printed next-page command repeats: all but the token.
  std::vector<std::string> replay_flags;
  for (const auto& [name, value] : line->flags) {
    flag_args.push_back(absl::StrCat("--", name, "=", value));
    if (name != "token") replay_flags.push_back(flag_args.back());
  }
  const absl::Status parsed =
      flag_set.Parse(flag_args, [](const char* name) -> const char* {
        for (const std::string& flag : accord::cli::EnvironmentFlags()) {
          if (accord::EnvVarForFlag(flag) == name) return std::getenv(name);
        }
        return nullptr;
      });
  if (!parsed.ok()) {
    std::cerr << "accordctl: " << parsed.message() << "\n";
    return kExitUsage;
  }
  std::signal(SIGPIPE, SIG_IGN);
  accord::cli::Ctl ctl(options, argv[0], replay_flags);
  if (line->words.empty()) {
    std::cout << accord::cli::kUsage;
    return line->help ? 0 : kExitUsage;
  }
  if (line->help) return ctl.Help(line->words);
  return ctl.Run(line->words);
}
