// bare-server: a gRPC server implementing reward.v1.RewardService that
// answers the same messages as rewardd without doing any work: every
// criterion is reported MET with status OK and the reward is 1. It is the
// baseline of the overhead benchmark: the difference between rewardd and
// this server is what rewardd itself costs (rubric resolution, validation,
// grading, the embedded judge, bookkeeping), everything else (gRPC, protobuf,
// loopback TCP, the load generator) being equal.
//
//   bare-server --listen=127.0.0.1:0 --port_file=/tmp/bare.port --criteria=20
//
// Thread-safety: handlers keep per-call state only; the stream reactor
// guards its queue with a mutex.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/bare_answer.h"
#include "bench/bare_server_process.h"
#include "reward/v1/reward.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC listen address");
ABSL_FLAG(std::string, port_file, "", "write the bound port here");
ABSL_FLAG(int, criteria, 20,
          "criteria reported for requests that reference a rubric set (an "
          "inline rubric's own criteria are echoed)");
ABSL_FLAG(int, max_stream_inflight, 64,
          "stream items answered but not yet written before reading pauses "
          "(as rewardd's flag of the same name)");

namespace {

using rewardd::bench::Answer;

using reward::v1::GradeGroupRequest;
using reward::v1::GradeGroupResponse;
using reward::v1::GradeRequest;
using reward::v1::GradeResponse;

class BareStream final
    : public grpc::ServerBidiReactor<GradeRequest, GradeResponse> {
 public:
  explicit BareStream(int max_inflight) : max_inflight_(max_inflight) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    bool write = false, read = false, finish = false;
    GradeResponse* to_write = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        reads_done_ = true;
        finish = !writing_ && queue_.empty() && !finished_;
        if (finish) finished_ = true;
      } else {
        queue_.emplace_back();
        Answer(request_, request_.request_id(), absl::GetFlag(FLAGS_criteria),
               &queue_.back());
        if (!writing_) {
          writing_ = write = true;
          to_write = &queue_.front();
        }
        if (static_cast<int>(queue_.size()) < max_inflight_) {
          read = true;
        } else {
          paused_ = true;
        }
      }
    }
    if (write) StartWrite(to_write);
    if (read) StartRead(&request_);
    if (finish) Finish(grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override {
    GradeResponse* next = nullptr;
    bool read = false, finish = false;
    grpc::Status status = grpc::Status::OK;
    {
      absl::MutexLock lock(&mu_);
      queue_.pop_front();
      if (!ok) {
        writing_ = false;
        if (!finished_) {
          finished_ = finish = true;
          status = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
        }
      } else if (!queue_.empty()) {
        next = &queue_.front();
      } else {
        writing_ = false;
        if (reads_done_ && !finished_) finished_ = finish = true;
      }
      if (ok && paused_ && static_cast<int>(queue_.size()) < max_inflight_) {
        paused_ = false;
        read = true;
      }
    }
    if (next != nullptr) StartWrite(next);
    if (read) StartRead(&request_);
    if (finish) Finish(status);
  }

  void OnDone() override { delete this; }

 private:
  const int max_inflight_;
  GradeRequest request_;
  absl::Mutex mu_;
  std::deque<GradeResponse> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class BareService final : public reward::v1::RewardService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Grade(grpc::CallbackServerContext* context,
                                  const GradeRequest* request,
                                  GradeResponse* response) override {
    Answer(*request, request->request_id(), absl::GetFlag(FLAGS_criteria),
           response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GradeGroup(grpc::CallbackServerContext* context,
                                       const GradeGroupRequest* request,
                                       GradeGroupResponse* response) override {
    response->set_request_id(request->request_id());
    for (int i = 0; i < request->responses_size(); ++i) {
      Answer(*request, absl::StrCat(request->request_id(), "/", i),
             absl::GetFlag(FLAGS_criteria), response->add_results());
    }
    response->set_mean_reward(1);
    response->set_std_reward(0);
    response->set_valid_count(request->responses_size());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<GradeRequest, GradeResponse>* GradeStream(
      grpc::CallbackServerContext* context) override {
    return new BareStream(absl::GetFlag(FLAGS_max_stream_inflight));
  }

  grpc::ServerUnaryReactor* ListRubricSets(
      grpc::CallbackServerContext* context,
      const reward::v1::ListRubricSetsRequest* request,
      reward::v1::ListRubricSetsResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetRubric(
      grpc::CallbackServerContext* context,
      const reward::v1::GetRubricRequest* request,
      reward::v1::GetRubricResponse* response) override {
    reward::v1::Rubric* rubric = response->mutable_rubric();
    rubric->set_id(request->rubric_id());
    for (int k = 0; k < absl::GetFlag(FLAGS_criteria); ++k) {
      reward::v1::Criterion* c = rubric->add_criteria();
      c->set_id(absl::StrCat("c", k + 1));
      c->set_weight(1);
    }
    response->set_rubric_set(request->rubric_set());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A RewardService that answers without work: the baseline of the "
      "overhead benchmark.");
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil is built with mutex deadlock detection on, which puts
  // every Mutex lock through a global graph (measured: 3x the cost of a
  // lock/unlock); a benchmark must not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t signals = rewardd::bench::BlockStopSignals();

  BareService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "bare-server: cannot listen on %s\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  rewardd::bench::AnnouncePort("bare-server", port,
                               absl::GetFlag(FLAGS_port_file));
  int signal = 0;
  sigwait(&signals, &signal);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
