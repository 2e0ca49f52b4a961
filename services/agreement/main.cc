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

// Every flag of accord-agreement.
struct AgreementFlags {
  accord::ServerFlags server;
  std::string institution_target = "127.0.0.1:50051";
  absl::Duration institution_deadline = absl::Seconds(2);
  bool institution_cache = true;
  std::string institution_token_file;
  std::string institution_tls_ca;
  std::string testing_clock_file;
  accord::agreement::EntryIntoForceAnnouncer::Options announcer_options;
};

AgreementFlags ParseFlagsOrExit(int argc, char** argv) {
  AgreementFlags parsed;
  accord::ServerFlags& flags = parsed.server;
  flags.service_name = "agreement";
  flags.listen = "127.0.0.1:50052";
  accord::FlagSet flag_set("accord-agreement",
                           "Records agreements, committees, sessions and "
                           "milestones (accord.agreement.v1).");
  accord::RegisterServerFlags(flag_set, flags);
  flag_set.AddHostPort("institution_target", &parsed.institution_target,
                       "address of the institution service");
  flag_set.AddDuration("institution_deadline", &parsed.institution_deadline,
                       "deadline for checking references with the "
                       "institution service, retries included");
  flag_set.AddBool("institution_cache", &parsed.institution_cache,
                   "remember institutions and officials already checked, "
                   "kept current by their events, so writes naming them "
                   "skip the institution service (Redis still checks that "
                   "each is live in the write itself)");
  flag_set.AddString("institution_token_file", &parsed.institution_token_file,
                     "file holding this service's own bearer token for the "
                     "institution service");
  flag_set.AddString("institution_tls_ca", &parsed.institution_tls_ca,
                     "CA (PEM) of the institution service; enables TLS to it");
  flag_set.AddDuration("entry_into_force_scan_interval",
                       &parsed.announcer_options.interval,
                       "how often agreements are scanned for entries into "
                       "force that have arrived (the entered_into_force "
                       "event comes at most this long after midnight UTC)");
  flag_set.AddString("testing_clock_file", &parsed.testing_clock_file,
                     "TESTS ONLY: a file holding today's date (YYYY-MM-DD), "
                     "read at every use, instead of the real date");
  flag_set.ParseOrExit(argc, argv);
  return parsed;
}

// Plaintext, or TLS trusting the CA in `ca_file` when one is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
InstitutionCredentials(const std::string& ca_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<std::string> ca = ReadTrimmed(ca_file);
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *ca;
  return grpc::SslCredentials(options);
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  AgreementFlags parsed = ParseFlagsOrExit(argc, argv);
  accord::ServerFlags& flags = parsed.server;
  accord::ApplyLogFlags(flags);
  const accord::agreement::DateClock clock(parsed.testing_clock_file);
  if (clock.IsTesting()) {
    accord::LogWarning(
        "testing clock in use: dates come from a file; never "
        "do this in production",
        {{"file", parsed.testing_clock_file}});
  }

  accord::RedisClient redis(accord::RedisOptionsFrom(flags));
  accord::WritePath write_path(redis);
  absl::StatusOr<std::unique_ptr<accord::Authenticator>> auth =
      accord::Authenticator::Create(flags.auth);
  if (!auth.ok()) return Fail(auth.status().message());
  std::string token;
  if (!parsed.institution_token_file.empty()) {
    absl::StatusOr<std::string> read =
        ReadTrimmed(parsed.institution_token_file);
    if (!read.ok()) return Fail(read.status().message());
    token = *read;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
      channel_credentials = InstitutionCredentials(parsed.institution_tls_ca);
  if (!channel_credentials.ok()) {
    return Fail(channel_credentials.status().message());
  }
  accord::agreement::ReferenceCache cache;
  std::unique_ptr<accord::agreement::ReferenceFeed> feed;
  if (parsed.institution_cache) {
    feed =
        std::make_unique<accord::agreement::ReferenceFeed>(flags.redis, cache);
  }
  accord::agreement::InstitutionDirectory directory(
      grpc::CreateChannel(parsed.institution_target, *channel_credentials),
      parsed.institution_deadline, token,
      parsed.institution_cache ? &cache : nullptr);
  accord::agreement::AgreementServiceImpl service(redis, directory, **auth);
  accord::AuditServiceImpl audit(redis, **auth);
  accord::agreement::EntryIntoForceAnnouncer announcer(
      redis, write_path,
      [&service](const accord::agreement::v1::Agreement& agreement,
                 absl::string_view type) {
        return service.AgreementEvent(agreement, type);
      },
      clock, parsed.announcer_options);
  announcer.Start();
  // Records written before revisions were kept get their first one, then
  // records written before an index existed are added to it.
  accord::StartupTask upgrade("record upgrade", [&service] {
    absl::Status status = service.UpgradeRecordsWithoutRevisions();
    if (status.ok()) status = service.BackfillIndexes();
    return status;
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
