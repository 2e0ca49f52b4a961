// accord-institution: serves accord.institution.v1.InstitutionService.

#include <cstdio>

#include "common/audit_service.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis/client.h"
#include "common/server.h"
#include "common/startup_task.h"
#include "common/write_path.h"
#include "services/institution/institution_service.h"

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  accord::ServerFlags flags;
  flags.service_name = "institution";
  flags.listen = "127.0.0.1:50051";
  accord::FlagSet flag_set("accord-institution",
                           "Records institutions and the officials who act "
                           "for them (accord.institution.v1).");
  accord::RegisterServerFlags(flag_set, flags);
  flag_set.ParseOrExit(argc, argv);
  accord::ApplyLogFlags(flags);

  accord::RedisClient redis(accord::RedisOptionsFrom(flags));
  accord::WritePath write_path(redis);
  absl::StatusOr<std::unique_ptr<accord::Authenticator>> auth =
      accord::Authenticator::Create(flags.auth);
  if (!auth.ok()) {
    std::fprintf(stderr, "accord-institution: %s\n",
                 std::string(auth.status().message()).c_str());
    return 2;
  }
  accord::institution::InstitutionServiceImpl service(redis, **auth);
  accord::AuditServiceImpl audit(redis, **auth);
  bool search_index_rebuilt = false;
  // Records written before revisions were kept get their first one.
  accord::StartupTask upgrade("revision upgrade", [&service] {
    return service.UpgradeRecordsWithoutRevisions();
  });
  return accord::RunServer(flags, {&service, &audit},
                           {.readiness =
                                [&] {
                                  // Ready once Redis answers, holds the write
                                  // function and the search index is current
                                  // (once per start).
                                  absl::Status status = redis.Ping();
                                  if (status.ok())
                                    status = write_path.EnsureFunctionsLoaded();
                                  if (status.ok() && !search_index_rebuilt) {
                                    status = service.RebuildSearchIndex();
                                    search_index_rebuilt = status.ok();
                                  }
                                  return status;
                                },
                            .on_shutdown = nullptr,
                            .credentials = (*auth)->ServerCredentials()});
}
