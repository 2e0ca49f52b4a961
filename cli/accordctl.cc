// accordctl: the command-line client for operators and analysts.
//
//   accordctl get institutions/tums
//   accordctl list agreements --filter='party_country_codes: "IR"' --all
//   accordctl create institutions institution.json --id=tums
//   accordctl update agreements/x patch.json --mask=titles,keywords
//   accordctl delete|undelete NAME [--etag=E]
//   accordctl record-action agreements/x action.json
//   accordctl search "tehran university"
//   accordctl import examples/seed
//   accordctl watch --types=accord.agreement.v1.* [--from=POSITION]
//   accordctl call MethodName '{"json": "request"}'
//
// Input and output use the protobuf JSON mapping. Errors print the gRPC code
// and each field at fault, and exit non-zero.

#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "cli/importer.h"
#include "cli/rpc_client.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/errors.h"
#include "google/protobuf/util/json_util.h"

namespace accord::cli {
namespace {

using google::protobuf::Message;

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

struct Options {
  std::string institution_target = "127.0.0.1:50051";
  std::string agreement_target = "127.0.0.1:50052";
  std::string notification_target = "127.0.0.1:50053";
  absl::Duration deadline = absl::Seconds(10);
  std::string output = "json";
  // Verb options.
  std::string filter;
  std::string order_by;
  int64_t page_size = 0;
  bool all = false;
  bool show_deleted = false;
  std::string id;
  std::string parent;
  std::string mask;
  std::string etag;
  std::string request_id;
  std::string from;
  std::string types;
  std::string token;
  std::string credentials_file;
  bool help = false;
};

constexpr char kUsage[] = R"(Usage: accordctl [flags] VERB [ARGS]

Verbs:
  get NAME                      show one resource (institutions/x, agreements/x,
                                committees/x/sessions/18, subscriptions/x, ...)
  list COLLECTION               list institutions|officials|agreements|committees|
                                subscriptions, or PARENT/sessions, PARENT/milestones
                                [--filter=F] [--order-by=O] [--page-size=N] [--all]
                                [--show-deleted]
  create COLLECTION FILE|-      create from JSON [--id=ID] [--request-id=R]
                                (COLLECTION may be PARENT/sessions or PARENT/milestones)
  update NAME FILE|-            update the fields in --mask=a,b (default: fields set)
                                [--etag=E]
  delete NAME | undelete NAME   soft-delete or restore [--etag=E]
  record-action AGREEMENT FILE|-  append a lifecycle step (AgreementAction JSON)
  search QUERY                  find institutions by any name, in any script
  import PATH                   load a data set (a file or a folder of *.json)
  watch                         print events as they arrive [--types=a.*,b]
                                [--filter=F] [--from=POSITION|earliest|now]
  call METHOD JSON              call any unary method with a JSON request
  make-key PRINCIPAL ROLES [INSTITUTION...]
                                add a principal with a new API key to
                                --credentials-file and print its token

Flags (each also from the environment variable shown):
  --institution_target=HOST:PORT   ACCORD_INSTITUTION_TARGET (127.0.0.1:50051)
  --agreement_target=HOST:PORT     ACCORD_AGREEMENT_TARGET   (127.0.0.1:50052)
  --notification_target=HOST:PORT  ACCORD_NOTIFICATION_TARGET (127.0.0.1:50053)
  --deadline=DURATION              ACCORD_DEADLINE (10s)
  --output=json|table              ACCORD_OUTPUT (json: one resource per line)
  --token=TOKEN                    ACCORD_TOKEN (sent as a bearer token)
  --help                           this text (also: accordctl VERB --help)
)";

// Resource-name collection → (singular type name, service).
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
  };
  const std::vector<std::string> parts = absl::StrSplit(collection_path, '/');
  const auto found = kCollections.find(parts.back());
  if (found == kCollections.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown collection \"", parts.back(), "\""));
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

// A one-line summary for --output=table: name, a title, kind and state.
std::string TableRow(const Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  std::vector<std::string> cells;
  auto string_field = [&](const char* field_name) -> std::string {
    const auto* field = descriptor->FindFieldByName(field_name);
    if (field == nullptr || field->is_repeated() ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
      return "";
    }
    return reflection->GetString(message, field);
  };
  cells.push_back(string_field("name"));
  for (const char* list : {"names", "titles"}) {
    const auto* field = descriptor->FindFieldByName(list);
    if (field != nullptr && reflection->FieldSize(message, field) > 0) {
      const Message& first = reflection->GetRepeatedMessage(message, field, 0);
      const auto* text = first.GetDescriptor()->FindFieldByName("text");
      if (text != nullptr) {
        cells.push_back(first.GetReflection()->GetString(first, text));
      }
    }
  }
  for (const char* enum_name : {"kind", "state"}) {
    const auto* field = descriptor->FindFieldByName(enum_name);
    if (field != nullptr &&
        field->type() == google::protobuf::FieldDescriptor::TYPE_ENUM) {
      cells.push_back(reflection->GetEnum(message, field)->name());
    }
  }
  for (const char* date : {"signing_date", "due_date", "start_date"}) {
    const std::string value = string_field(date);
    if (!value.empty()) cells.push_back(value);
  }
  return absl::StrJoin(cells, "\t");
}

class Ctl {
 public:
  explicit Ctl(const Options& options)
      : options_(options),
        client_({{"accord.institution.v1.InstitutionService",
                  Channel(options.institution_target)},
                 {"accord.agreement.v1.AgreementService",
                  Channel(options.agreement_target)},
                 {"accord.notification.v1.NotificationService",
                  Channel(options.notification_target)}},
                options.deadline, options.token) {}

  int Run(const std::vector<std::string>& args) {
    const std::string& verb = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (verb == "get" && rest.size() == 1) return Get(rest[0]);
    if (verb == "list" && rest.size() == 1) return List(rest[0]);
    if (verb == "create" && rest.size() == 2) return Create(rest[0], rest[1]);
    if (verb == "update" && rest.size() == 2) return Update(rest[0], rest[1]);
    if ((verb == "delete" || verb == "undelete") && rest.size() == 1) {
      return ChangeLiveness(verb, rest[0]);
    }
    if (verb == "record-action" && rest.size() == 2) {
      return RecordAction(rest[0], rest[1]);
    }
    if (verb == "search" && rest.size() == 1) return Search(rest[0]);
    if (verb == "import" && rest.size() == 1) return Import(rest[0]);
    if (verb == "watch" && rest.empty()) return Watch();
    if (verb == "call" && rest.size() == 2) return Call(rest[0], rest[1]);
    if (verb == "make-key" && rest.size() >= 2) return MakeKey(rest);
    std::cerr << "accordctl: bad use of \"" << verb << "\"; see --help\n";
    return kExitUsage;
  }

 private:
  static std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }

  int Fail(const absl::Status& status) {
    std::cerr << "accordctl: " << DescribeStatus(status) << "\n";
    return kExitFailed;
  }

  void Print(const Message& message) {
    std::cout << (options_.output == "table" ? TableRow(message)
                                             : ToJson(message))
              << "\n";
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

  int Get(const std::string& name) {
    auto collection = CollectionOfName(name);
    if (!collection.ok()) return Fail(collection.status());
    auto response = CallWith(absl::StrCat("Get", collection->type),
                             absl::StrCat("{\"name\":", Quoted(name), "}"));
    if (!response.ok()) return Fail(response.status());
    Print(**response);
    return 0;
  }

  int List(const std::string& path) {
    auto collection = CollectionOf(path);
    if (!collection.ok()) return Fail(collection.status());
    const size_t slash = path.rfind('/');
    std::string token;
    do {
      std::string request = absl::StrCat(
          "{\"filter\":", Quoted(options_.filter),
          ",\"orderBy\":", Quoted(options_.order_by),
          ",\"pageSize\":", options_.page_size,
          ",\"showDeleted\":", options_.show_deleted ? "true" : "false",
          ",\"pageToken\":", Quoted(token));
      if (slash != std::string::npos) {
        absl::StrAppend(&request,
                        ",\"parent\":", Quoted(path.substr(0, slash)));
      }
      request += "}";
      auto response =
          CallWith(absl::StrCat("List", collection->plural), request);
      if (!response.ok()) return Fail(response.status());
      const auto* descriptor = (*response)->GetDescriptor();
      const auto* reflection = (*response)->GetReflection();
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const auto* field = descriptor->field(i);
        if (!field->is_repeated()) continue;
        for (int j = 0; j < reflection->FieldSize(**response, field); ++j) {
          Print(reflection->GetRepeatedMessage(**response, field, j));
        }
      }
      token = reflection->GetString(
          **response, descriptor->FindFieldByName("next_page_token"));
    } while (options_.all && !token.empty());
    if (!token.empty())
      std::cerr << "next page: --all, or token " << token << "\n";
    return 0;
  }

  int Create(const std::string& path, const std::string& file) {
    auto collection = CollectionOf(path);
    if (!collection.ok()) return Fail(collection.status());
    const std::string body = ReadInput(file);
    if (body.empty()) return Fail(absl::NotFoundError("cannot read " + file));
    std::string singular = collection->type;
    singular[0] = static_cast<char>(std::tolower(singular[0]));
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
    Print(**response);
    return 0;
  }

  int Update(const std::string& name, const std::string& file) {
    auto collection = CollectionOfName(name);
    if (!collection.ok()) return Fail(collection.status());
    const std::string body = ReadInput(file);
    if (body.empty()) return Fail(absl::NotFoundError("cannot read " + file));
    std::string singular = collection->type;
    singular[0] = static_cast<char>(std::tolower(singular[0]));
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
    const auto* reflection = resource->GetReflection();
    reflection->SetString(
        resource, resource->GetDescriptor()->FindFieldByName("name"), name);
    if (!options_.etag.empty()) {
      reflection->SetString(resource,
                            resource->GetDescriptor()->FindFieldByName("etag"),
                            options_.etag);
    }
    auto response = client_.Call(**method, *request);
    if (!response.ok()) return Fail(response.status());
    Print(**response);
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
    Print(**response);
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
    Print(**response);
    return 0;
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
        std::cout << match.score() << "\t" << match.institution().name() << "\t"
                  << match.matched_name().text() << "\n";
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
    auto stub = notification::v1::NotificationService::NewStub(
        Channel(options_.notification_target));
    notification::v1::WatchEventsRequest request;
    auto* selector = request.mutable_inline_selector();
    for (absl::string_view type :
         absl::StrSplit(options_.types, ',', absl::SkipEmpty())) {
      selector->add_event_types(std::string(type));
    }
    selector->set_filter(options_.filter);
    request.set_start_position(options_.from);
    grpc::ClientContext context;
    if (!options_.token.empty()) {
      context.AddMetadata("authorization",
                          absl::StrCat("Bearer ", options_.token));
    }
    auto reader = stub->WatchEvents(&context, request);
    notification::v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      if (!response.has_event()) continue;  // heartbeats stay quiet
      const auto& event = response.event();
      if (options_.output == "table") {
        std::cout << event.position() << "\t" << event.type() << "\t"
                  << event.subject() << std::endl;
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
    Print(**response);
    return 0;
  }

  const Options& options_;
  RpcClient client_;
};

}  // namespace
}  // namespace accord::cli

int main(int argc, char** argv) {
  using accord::cli::Options;
  Options options;
  accord::FlagSet flags("accordctl", accord::cli::kUsage);
  flags.AddHostPort("institution_target", &options.institution_target,
                    "institution service");
  flags.AddHostPort("agreement_target", &options.agreement_target,
                    "agreement service");
  flags.AddHostPort("notification_target", &options.notification_target,
                    "notification service");
  flags.AddDuration("deadline", &options.deadline, "per-call deadline");
  flags.AddChoice("output", &options.output, {"json", "table"},
                  "output format");
  flags.AddString("filter", &options.filter, "AIP-160 filter");
  flags.AddString("order-by", &options.order_by, "order_by");
  flags.AddInt("page-size", &options.page_size, 0, 1000, "page size");
  flags.AddBool("all", &options.all, "follow every page");
  flags.AddBool("show-deleted", &options.show_deleted, "include soft-deleted");
  flags.AddString("id", &options.id, "id for create");
  flags.AddString("mask", &options.mask, "update mask, comma-separated");
  flags.AddString("etag", &options.etag, "etag for a conditional write");
  flags.AddString("request-id", &options.request_id, "idempotency key");
  flags.AddString("from", &options.from, "watch start position");
  flags.AddString("types", &options.types, "event types to watch");
  flags.AddString("token", &options.token,
                  "bearer token (ACCORD_TOKEN); never printed");
  flags.AddString("credentials-file", &options.credentials_file,
                  "credentials file that make-key adds to");

  // Flags may come before or after the verb; the rest are arguments.
  std::vector<std::string> flag_args;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    (absl::StartsWith(arg, "--") || arg == "-h" ? flag_args : words)
        .push_back(arg);
  }
  const absl::Status parsed = flags.Parse(
      flag_args, [](const char* name) { return std::getenv(name); });
  if (!parsed.ok()) {
    std::cerr << "accordctl: " << parsed.message() << "\n";
    return accord::cli::kExitUsage;
  }
  if (flags.help_requested() || words.empty()) {
    std::cout << accord::cli::kUsage;
    return words.empty() && !flags.help_requested() ? accord::cli::kExitUsage
                                                    : 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  accord::cli::Ctl ctl(options);
  return ctl.Run(words);
}
