// accord-agreement: serves accord.agreement.v1.AgreementService.

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/audit_service.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis/client.h"
#include "common/server.h"
#include "common/startup_task.h"
#include "common/write_path.h"
#include "services/agreement/agreement_service.h"
#include "services/agreement/date_clock.h"
#include "services/agreement/entry_into_force_announcer.h"
#include "services/agreement/institution_directory.h"
#include "services/agreement/reference_cache.h"

namespace {

int Fail(absl::string_view message) {
  std::fprintf(stderr, "accord-agreement: %s\n", std::string(message).c_str());
  return 2;
}

absl::StatusOr<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream contents;
  contents << file.rdbuf();
  return std::string(absl::StripAsciiWhitespace(contents.str()));
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  accord::ServerFlags flags;
  flags.service_name = "agreement";
  flags.listen = "127.0.0.1:50052";
  std::string institution_target = "127.0.0.1:50051";
  absl::Duration institution_deadline = absl::Seconds(2);
  accord::FlagSet flag_set("accord-agreement",
                           "Records agreements, committees, sessions and "
                           "milestones (accord.agreement.v1).");
  accord::RegisterServerFlags(flag_set, flags);
  flag_set.AddHostPort("institution_target", &institution_target,
                       "address of the institution service");
  flag_set.AddDuration("institution_deadline", &institution_deadline,
                       "deadline for checking references with the "
                       "institution service, retries included");
  bool institution_cache = true;
  flag_set.AddBool("institution_cache", &institution_cache,
                   "remember institutions and officials already checked, "
                   "kept current by their events, so writes naming them "
                   "skip the institution service (Redis still checks that "
                   "each is live in the write itself)");
  std::string institution_token_file;
  std::string institution_tls_ca;
  flag_set.AddString("institution_token_file", &institution_token_file,
                     "file holding this service's own bearer token for the "
                     "institution service");
  flag_set.AddString("institution_tls_ca", &institution_tls_ca,
                     "CA (PEM) of the institution service; enables TLS to it");
  std::string testing_clock_file;
  accord::agreement::EntryIntoForceAnnouncer::Options announcer_options;
  flag_set.AddDuration("entry_into_force_scan_interval",
                       &announcer_options.interval,
                       "how often agreements are scanned for entries into "
                       "force that have arrived (the entered_into_force "
                       "event comes at most this long after midnight UTC)");
  flag_set.AddString("testing_clock_file", &testing_clock_file,
                     "TESTS ONLY: a file holding today's date (YYYY-MM-DD), "
                     "read at every use, instead of the real date");
  flag_set.ParseOrExit(argc, argv);
  accord::ApplyLogFlags(flags);
  const accord::agreement::DateClock clock(testing_clock_file);
  if (clock.IsTesting()) {
    accord::LogWarning(
        "testing clock in use: dates come from a file; never "
        "do this in production",
        {{"file", testing_clock_file}});
  }

  accord::RedisClient redis(accord::RedisOptionsFrom(flags));
  accord::WritePath write_path(redis);
  absl::StatusOr<std::unique_ptr<accord::Authenticator>> auth =
      accord::Authenticator::Create(flags.auth);
  if (!auth.ok()) return Fail(auth.status().message());
  std::string token;
  if (!institution_token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTrimmed(institution_token_file);
    if (!read.ok()) return Fail(read.status().message());
    token = *read;
  }
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials =
      grpc::InsecureChannelCredentials();
  if (!institution_tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadTrimmed(institution_tls_ca);
    if (!ca.ok()) return Fail(ca.status().message());
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *ca;
    channel_credentials = grpc::SslCredentials(options);
  }
  accord::agreement::ReferenceCache cache;
  std::unique_ptr<accord::agreement::ReferenceFeed> feed;
  if (institution_cache) {
    feed =
        std::make_unique<accord::agreement::ReferenceFeed>(flags.redis, cache);
  }
  accord::agreement::InstitutionDirectory directory(
      grpc::CreateChannel(institution_target, channel_credentials),
      institution_deadline, token, institution_cache ? &cache : nullptr);
  accord::agreement::AgreementServiceImpl service(redis, directory, **auth);
  accord::AuditServiceImpl audit(redis, **auth);
  accord::agreement::EntryIntoForceAnnouncer announcer(
      redis, write_path,
      [&service](const accord::agreement::v1::Agreement& agreement,
                 absl::string_view type) {
        return service.AgreementEvent(agreement, type);
      },
      clock, announcer_options);
  announcer.Start();
  // Records written before revisions were kept get their first one.
  accord::StartupTask upgrade("revision upgrade", [&service] {
    return service.UpgradeRecordsWithoutRevisions();
  });
  return accord::RunServer(flags, {&service, &audit},
                           {.readiness =
                                [&] {
                                  absl::Status status = redis.Ping();
                                  if (status.ok())
                                    status = write_path.EnsureFunctionsLoaded();
                                  return status;
                                },
                            .on_shutdown = nullptr,
                            .credentials = (*auth)->ServerCredentials()});
}
