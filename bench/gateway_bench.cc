// gateway-bench: calls/s of rewardd's HTTP/JSON gateway against plain gRPC
// unary calls on the same rewardd, side by side in one run. The gateway runs
// in this process with a gRPC channel to --target (in rewardd it will use an
// in-process channel, so this path has one more TCP hop than the wired
// gateway will). Each of --connections threads keeps one keep-alive HTTP
// connection (or shares the gRPC channel) and sends the same GradeRequest
// back to back for --seconds.
//
//   build/server/main/rewardd --rubric_dir=examples/rubrics
//   --listen=127.0.0.1:50051 & build/bench/gateway-bench
//   --target=127.0.0.1:50051 --connections=16
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "reward/v1/reward.grpc.pb.h"
#include "server/gateway/http_gateway.h"
#include "server/gateway/proto_json.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "rewardd's gRPC address.");
ABSL_FLAG(int, connections, 16, "Concurrent callers (HTTP connections).");
ABSL_FLAG(double, seconds, 5, "Measured time per side.");
ABSL_FLAG(std::string, rubric_set, "demo", "Rubric set of the request.");
ABSL_FLAG(std::string, rubric_id, "arith-1", "Rubric id of the request.");
ABSL_FLAG(std::string, response, "120 km / 1.5 h = 80 km/h.\nAnswer: 80",
          "Response text graded.");

namespace {

namespace pb = reward::v1;

// Runs `call` on every thread for the measured time; returns calls/s of
// calls that returned true, and counts the others in *failed.
template <typename Call>
double Run(int threads, absl::Duration length, Call call, int64_t* failed) {
  std::atomic<int64_t> ok{0}, bad{0};
  const absl::Time end = absl::Now() + length;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto caller = call(t);
      while (absl::Now() < end) (caller() ? ok : bad)++;
    });
  }
  for (std::thread& w : workers) w.join();
  *failed = bad;
  return ok / absl::ToDoubleSeconds(length);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_connections);
  const absl::Duration length = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  pb::GradeRequest request;
  request.set_rubric_set(absl::GetFlag(FLAGS_rubric_set));
  request.set_rubric_id(absl::GetFlag(FLAGS_rubric_id));
  request.set_response(absl::GetFlag(FLAGS_response));
  const std::string body = rewardd::PrintProtoJson(request);
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target),
                                     grpc::InsecureChannelCredentials());

  rewardd::GatewayOptions options;
  options.threads = n;
  auto gateway = rewardd::HttpGateway::Start(options, channel);
  if (!gateway.ok()) {
    std::fprintf(stderr, "%s\n", gateway.status().ToString().c_str());
    return 1;
  }
  const int port = (*gateway)->port();

  int64_t grpc_failed = 0, http_failed = 0;
  auto stub = pb::RewardService::NewStub(channel);
  const double grpc_rate = Run(
      n, length,
      [&](int) {
        return [&] {
          grpc::ClientContext context;
          pb::GradeResponse response;
          return stub->Grade(&context, request, &response).ok() &&
                 response.valid();
        };
      },
      &grpc_failed);
  const double http_rate = Run(
      n, length,
      [&](int) {
        auto client = std::make_shared<httplib::Client>("127.0.0.1", port);
        client->set_keep_alive(true);
        client->set_tcp_nodelay(true);
        return [client, &body] {
          auto res = client->Post("/v1/grade", body, "application/json");
          return res && res->status == 200;
        };
      },
      &http_failed);
  std::printf(
      "{\"connections\": %d, \"grpc_calls_per_s\": %.0f, "
      "\"http_calls_per_s\": %.0f, \"ratio\": %.3f, \"grpc_failed\": %lld, "
      "\"http_failed\": %lld}\n",
      n, grpc_rate, http_rate, http_rate / grpc_rate,
      static_cast<long long>(grpc_failed), static_cast<long long>(http_failed));
  return 0;
}
