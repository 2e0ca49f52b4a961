// Writes the binary seed corpora of the fuzz targets from the seed scenario:
// serialized create requests (request_validation), stream events
// (event_decoding) and page-token inputs in FuzzedDataProvider layout
// (page_token). The text corpora (filter, resource_name) are written by
// hand, and so are the `regression-*` inputs, each of which once showed a
// bug (made with `protoc --encode`).
//
// Usage: accord_fuzz_seeds EXAMPLES_SEED_DIR FUZZ_CORPUS_DIR
//   e.g. build-fuzz/bin/accord_fuzz_seeds examples/seed fuzz/corpus

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "accord/agreement/v1/agreement_service.pb.h"
#include "accord/institution/v1/institution_service.pb.h"
#include "common/events.h"
#include "common/list.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace {

namespace fs = std::filesystem;
using google::protobuf::Message;

// A request method of the seed files, the request_validation selector byte
// for it and how many of its calls to keep.
struct Method {
  char selector;
  const Message* prototype;
  int keep;
};

const std::map<std::string, Method>& Methods() {
  static const auto* const methods = new std::map<std::string, Method>{
      {"createInstitution",
       {0,
        &accord::institution::v1::CreateInstitutionRequest::default_instance(),
        3}},
      {"createOfficial",
       {1, &accord::institution::v1::CreateOfficialRequest::default_instance(),
        2}},
      {"createAgreement",
       {2, &accord::agreement::v1::CreateAgreementRequest::default_instance(),
        2}},
      {"createCommittee",
       {3, &accord::agreement::v1::CreateCommitteeRequest::default_instance(),
        2}},
      {"createSession",
       {4, &accord::agreement::v1::CreateSessionRequest::default_instance(),
        1}},
      {"createMilestone",
       {5, &accord::agreement::v1::CreateMilestoneRequest::default_instance(),
        2}},
      {"recordAgreementAction",
       {6,
        &accord::agreement::v1::RecordAgreementActionRequest::
            default_instance(),
        2}},
  };
  return *methods;
}

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
}

// Builds input for FuzzedDataProvider: strings from the front (terminated
// by a backslash and another byte), numbers from the back.
class ProviderInput {
 public:
  void String(const std::string& text) {
    for (const char c : text) {
      front_ += c;
      if (c == '\\') front_ += '\\';
    }
    front_ += "\\\n";
  }
  void Bytes(const std::string& bytes) { front_ += bytes; }
  // `count` bytes of `value`, most significant first, as ConsumeIntegral
  // reads them.
  void Number(uint64_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      back_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
  }
  std::string Done() const {
    return front_ + std::string(back_.rbegin(), back_.rend());
  }

 private:
  std::string front_;
  std::string back_;  // in the order consumed, from the end
};

std::vector<std::pair<std::string, std::unique_ptr<Message>>> ReadCalls(
    const fs::path& seed_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(seed_dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::pair<std::string, std::unique_ptr<Message>>> calls;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    google::protobuf::ListValue list;
    if (!google::protobuf::util::JsonStringToMessage(text.str(), &list).ok()) {
      std::cerr << "cannot parse " << file << "\n";
      std::exit(1);
    }
    for (const auto& value : list.values()) {
      for (const auto& [method, request] : value.struct_value().fields()) {
        const auto found = Methods().find(method);
        if (found == Methods().end()) continue;
        std::string json;
        (void)google::protobuf::util::MessageToJsonString(request, &json);
        std::unique_ptr<Message> message(found->second.prototype->New());
        const auto status =
            google::protobuf::util::JsonStringToMessage(json, message.get());
        if (!status.ok()) {
          std::cerr << file << ": " << method << ": " << status << "\n";
          std::exit(1);
        }
        calls.emplace_back(method, std::move(message));
      }
    }
  }
  return calls;
}

void RequestSeeds(
    const std::vector<std::pair<std::string, std::unique_ptr<Message>>>& calls,
    const fs::path& out) {
  std::map<std::string, int> written;
  for (const auto& [method, request] : calls) {
    const Method& info = Methods().at(method);
    int& count = written[method];
    if (count >= info.keep) continue;
    ++count;
    if (method == "recordAgreementAction") {
      // The prior log (see request_validation_fuzzer.cc): both parties
      // signed in January.
      auto* action =
          static_cast<accord::agreement::v1::RecordAgreementActionRequest*>(
              request.get());
      action->set_etag(std::string("\x00\x16", 2));
    }
    Write(out / absl::StrCat(method, "-", count),
          std::string(1, info.selector) + request->SerializeAsString());
  }
}

void EventSeeds(
    const std::vector<std::pair<std::string, std::unique_ptr<Message>>>& calls,
    const fs::path& out) {
  accord::ChangeContext context;
  context.principal = "importer";
  context.time = absl::FromUnixSeconds(1745539200);
  std::map<std::string, int> written;
  int sequence = 0;
  for (const auto& [method, request] : calls) {
    if (method == "recordAgreementAction" || written[method]++ > 0) continue;
    // The record is the request's first field.
    const auto* field = request->GetDescriptor()->field(0);
    const Message& record =
        request->GetReflection()->GetMessage(*request, field);
    accord::events::v1::Event event = accord::MakeEvent(
        "//accord/seed", absl::StrCat("accord.seed.v1.", method), "seeds/x",
        record, context);
    event.set_id(absl::StrCat("00000000-0000-4000-8000-00000000000", sequence));
    event.add_institutions("institutions/tums");
    event.add_country_codes("IR");
    const std::string position = absl::StrCat("1745539200000-", sequence);
    Write(out / absl::StrCat("event-", method),
          absl::StrCat(position, "\n1745539200000-", sequence + 1, "\n",
                       event.SerializeAsString()));
    ++sequence;
  }
  const accord::events::v1::Event sample = accord::fuzz::SampleEvent();
  Write(out / "event-sample",
        absl::StrCat("1745539200000-0\n0-1\n", sample.SerializeAsString()));
  Write(out / "event-truncated",
        absl::StrCat("18446744073709551615-18446744073709551615\n-\n",
                     sample.SerializeAsString().substr(0, 40)));
}

void PageTokenSeeds(const fs::path& out) {
  const accord::PageTokenCodec codec(accord::fuzz::kPageTokenSecret);
  // Codec mode (the mode bool is even).
  {
    ProviderInput input;
    const std::string fingerprint =
        "accord.institution.v1.Institution\x1f\x1f\x1f"
        "0";
    input.Number(0, 1);
    input.String(fingerprint);
    input.String(codec.Encode(fingerprint, {"institutions/tums"}));
    input.Number(0, 1);  // one cursor part
    input.String("institutions/tums");
    Write(out / "codec-valid", input.Done());
  }
  {
    ProviderInput input;
    input.Number(0, 1);
    input.String(
        "accord.agreement.v1.Agreement\x1f"
        "kind = KIND_TREATY");
    input.String("bm90LWEtdG9rZW4");
    input.Number(2, 1);
    input.String("00000000001737072000000000000");
    input.String("agreements/x");
    input.String("");
    Write(out / "codec-forged", input.Done());
  }
  // ParseListQuery mode: type, page size, show_deleted, other query, then
  // filter, order_by, scope and the token.
  struct Query {
    const char* file;
    int type;  // as ListedTypes() in page_token_fuzzer.cc
    const google::protobuf::Descriptor* descriptor;
    int32_t page_size;
    bool show_deleted;
    int other_query;
    std::string filter, order_by, scope;
    std::vector<std::string> cursor;  // empty: no token
  };
  const std::vector<Query> queries = {
      {"list-institutions",
       0,
       accord::institution::v1::Institution::descriptor(),
       0,
       false,
       0,
       R"(country_code = "IR" AND kind = KIND_UNIVERSITY)",
       "",
       "",
       {"institutions/iran"}},
      {"list-institutions-order",
       0,
       accord::institution::v1::Institution::descriptor(),
       25,
       true,
       1,
       R"(names.text: "tehran" OR external_ids.value = "01c4pz451")",
       "country_code desc, name",
       "",
       {"IR", "institutions/tums"}},
      {"list-agreements",
       1,
       accord::agreement::v1::Agreement::descriptor(),
       1000,
       false,
       2,
       R"(signing_date >= "2025-01-01" AND kind = KIND_TREATY )"
       R"(AND parties: "institutions/iran")",
       "signing_date desc",
       "",
       {}},
      {"list-sessions",
       2,
       accord::agreement::v1::Session::descriptor(),
       10,
       false,
       3,
       "number >= 17 AND NOT place.country_code = \"IR\"",
       "number desc",
       "committees/iran-russia-jec",
       {"09223372036854775826", "committees/iran-russia-jec/sessions/18"}},
  };
  for (const Query& query : queries) {
    ProviderInput input;
    input.Number(1, 1);
    input.Number(static_cast<uint64_t>(query.type), 1);
    input.Number(static_cast<uint32_t>(query.page_size) ^ 0x80000000u, 4);
    input.Number(query.show_deleted ? 1 : 0, 1);
    input.Number(static_cast<uint64_t>(query.other_query), 1);
    input.String(query.filter);
    input.String(query.order_by);
    input.String(query.scope);
    if (!query.cursor.empty()) {
      accord::ListRequestFields fields;
      fields.page_size = query.page_size;
      fields.filter = query.filter;
      fields.order_by = query.order_by;
      fields.show_deleted = query.show_deleted;
      fields.scope = query.scope;
      absl::StatusOr<accord::ListQuery> parsed = accord::ParseListQuery(
          codec, *query.descriptor, fields,
          {"name", "country_code", "signing_date", "number"});
      if (!parsed.ok()) {
        std::cerr << query.file << ": " << parsed.status() << "\n";
        std::exit(1);
      }
      input.Bytes(codec.Encode(parsed->fingerprint, query.cursor));
    }
    Write(out / query.file, input.Done());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " EXAMPLES_SEED_DIR FUZZ_CORPUS_DIR\n";
    return 2;
  }
  const fs::path corpus = argv[2];
  const auto calls = ReadCalls(argv[1]);
  RequestSeeds(calls, corpus / "request_validation");
  EventSeeds(calls, corpus / "event_decoding");
  PageTokenSeeds(corpus / "page_token");
  return 0;
}
