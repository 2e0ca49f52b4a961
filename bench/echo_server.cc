// bench_echo_server: the bare gRPC baseline of accord_bench. One unary method
// on the callback API, with raw ByteBuffers for request and response (no
// proto file, no parsing), no health service, reflection, interceptors, logs
// or metrics: what gRPC alone costs per call on this machine.
//
// Usage:
//   bench_echo_server --listen=127.0.0.1:PORT [--response_bytes=N]
// The method is /accord.bench.Echo/Echo. It answers with N bytes (the size
// of the Accord response it stands in for), or echoes the request when N
// is 0. Runs until SIGTERM or SIGINT.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/byte_buffer.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace {

constexpr char kMethod[] = "/accord.bench.Echo/Echo";

class EchoService final : public grpc::Service {
 public:
  explicit EchoService(size_t response_bytes)
      : reply_(std::string(response_bytes, 'x')), echo_(response_bytes == 0) {
    AddMethod(new grpc::internal::RpcServiceMethod(
        kMethod, grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodCallback(
        0, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                    grpc::ByteBuffer>(
               [this](grpc::CallbackServerContext* context,
                      const grpc::ByteBuffer* request,
                      grpc::ByteBuffer* response) {
                 if (echo_) {
                   *response = *request;
                 } else {
                   // Shares the slice: no copy of the payload per call.
                   *response = grpc::ByteBuffer(&reply_, 1);
                 }
                 grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
                 reactor->Finish(grpc::Status::OK);
                 return reactor;
               }));
  }

 private:
  const grpc::Slice reply_;
  const bool echo_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: bench_echo_server --listen=HOST:PORT "
               "[--response_bytes=N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  size_t response_bytes = 0;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--listen=")) {
      listen = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--response_bytes=")) {
      if (!absl::SimpleAtoi(arg, &response_bytes)) return Usage();
    } else {
      return Usage();
    }
  }
  if (listen.empty()) return Usage();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoService service(response_bytes);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "bench_echo_server: cannot listen on %s\n",
                 listen.c_str());
    return 1;
  }
  std::printf("listening on %s\n", listen.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown();
  return 0;
}
