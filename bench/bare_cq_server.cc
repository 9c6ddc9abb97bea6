// bare-cq-server: bare-server's unary Grade on gRPC's asynchronous
// completion-queue API instead of the callback API, with one completion
// queue per polling thread (--threads). It answers like bare-server and does
// no work; only Grade is served (other methods: UNIMPLEMENTED).
//
// It answers one question of scenario 9 (docs/benchmarks.md): how much of
// the gRPC floor, what a server pays per unary call at ~1,000 calls/s, is
// the callback API's (in gRPC 1.51 on Linux its two polling threads hand
// every event to each other) and how much any gRPC server pays.
//
//   bare-cq-server --port_file=/tmp/cq.port --threads=1
//
// Thread-safety: each call's state is touched only by the thread polling
// its completion queue.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/bare_answer.h"
#include "bench/bare_server_process.h"
#include "reward/v1/reward.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC listen address");
ABSL_FLAG(std::string, port_file, "", "write the bound port here");
ABSL_FLAG(int, threads, 1, "polling threads, each with its own queue");
ABSL_FLAG(int, criteria, 20,
          "criteria answered for a rubric given by reference");

namespace {

using reward::v1::GradeRequest;
using reward::v1::GradeResponse;
using reward::v1::RewardService;
// Grade on the completion queues; every other method keeps the generated
// synchronous default, UNIMPLEMENTED (an async method nobody requests would
// leave its calls waiting instead).
using GradeOnlyService =
    RewardService::WithAsyncMethod_Grade<RewardService::Service>;

// Calls waiting for a request on each queue: enough that a burst of new
// calls never waits for the polling thread to post the next one.
constexpr int kPendingCallsPerQueue = 64;

// One Grade call: requested, answered, then deleted when its Finish()
// completes (or when the server shuts down).
class GradeCall {
 public:
  GradeCall(GradeOnlyService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&context_) {
    service_->RequestGrade(&context_, &request_, &responder_, cq_, cq_, this);
  }

  // The queue returned this call's tag with `ok`.
  void Proceed(bool ok) {
    if (!ok || answered_) {
      delete this;
      return;
    }
    new GradeCall(service_, cq_);  // the next call on this queue
    rewardd::bench::Answer(request_, request_.request_id(),
                           absl::GetFlag(FLAGS_criteria), &response_);
    answered_ = true;
    responder_.Finish(response_, grpc::Status::OK, this);
  }

 private:
  GradeOnlyService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  GradeRequest request_;
  GradeResponse response_;
  grpc::ServerAsyncResponseWriter<GradeResponse> responder_;
  bool answered_ = false;
};

void Poll(GradeOnlyService* service, grpc::ServerCompletionQueue* cq) {
  for (int i = 0; i < kPendingCallsPerQueue; ++i) new GradeCall(service, cq);
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<GradeCall*>(tag)->Proceed(ok);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Do-nothing Grade server on gRPC's completion-queue API (bench).");
  absl::ParseCommandLine(argc, argv);
  sigset_t signals = rewardd::bench::BlockStopSignals();

  GradeOnlyService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_threads)); ++i) {
    queues.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "bare-cq-server: cannot listen on %s\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  rewardd::bench::AnnouncePort("bare-cq-server", port,
                               absl::GetFlag(FLAGS_port_file));
  std::vector<std::thread> pollers;
  for (auto& cq : queues) pollers.emplace_back(Poll, &service, cq.get());

  int signal = 0;
  sigwait(&signals, &signal);
  server->Shutdown();
  for (auto& cq : queues) cq->Shutdown();
  for (std::thread& t : pollers) t.join();
  return 0;
}
