// accord-agreement: serves accord.agreement.v1.AgreementService.

#include "common/config.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "common/write_path.h"
#include "services/agreement/agreement_service.h"
#include "services/agreement/institution_directory.h"

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
  flag_set.ParseOrExit(argc, argv);
  accord::ApplyLogFlags(flags);

  accord::RedisClient redis({.url = flags.redis,
                             .pool_size = static_cast<int>(flags.redis_pool_size),
                             .command_timeout = flags.redis_timeout});
  accord::WritePath write_path(redis);
  accord::agreement::InstitutionDirectory directory(
      grpc::CreateChannel(institution_target,
                          grpc::InsecureChannelCredentials()),
      institution_deadline);
  accord::agreement::AgreementServiceImpl service(redis, directory);
  return accord::RunServer(
      flags, {&service},
      {.readiness =
           [&] {
             absl::Status status = redis.Ping();
             if (status.ok()) status = write_path.LoadFunctions();
             return status;
           },
       .on_shutdown = nullptr});
}
