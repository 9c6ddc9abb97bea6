#include "bench/load_generator.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "reward/v1/reward.grpc.pb.h"

namespace rewardd::bench {

namespace {

using Clock = std::chrono::steady_clock;
using reward::v1::GetRubricRequest;
using reward::v1::GetRubricResponse;
using reward::v1::GradeGroupRequest;
using reward::v1::GradeGroupResponse;
using reward::v1::GradeRequest;
using reward::v1::GradeResponse;
using reward::v1::RewardService;

constexpr int kStatusCodes = 17;
constexpr int kBacklogSlot = kStatusCodes;  // open loop: never sent

// gRPC and absl share the code numbering; the extra slot counts open-loop
// calls that were never sent.
std::string StatusName(int code) {
  if (code == kBacklogSlot) return "CLIENT_BACKLOG";
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

const char* ShapeName(LoadOptions::Shape shape) {
  switch (shape) {
    case LoadOptions::Shape::kUnary:
      return "unary";
    case LoadOptions::Shape::kGroup:
      return "group";
    case LoadOptions::Shape::kStream:
      return "stream";
    case LoadOptions::Shape::kGetRubric:
      return "get_rubric";
  }
  return "?";
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// judge-sim /stats as JSON; nullopt when unreachable.
std::optional<nlohmann::json> FetchJudgeStats(const std::string& url,
                                              bool reset_first) {
  httplib::Client client(url);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  if (reset_first) client.Post("/reset", "", "application/json");
  httplib::Result r = client.Get("/stats");
  if (!r || r->status != 200) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// after - before for every number (recursively); concurrent_peak is a peak,
// kept as it is after.
nlohmann::json JsonDelta(const nlohmann::json& before,
                         const nlohmann::json& after) {
  nlohmann::json out = nlohmann::json::object();
  for (auto it = after.begin(); it != after.end(); ++it) {
    const std::string& key = it.key();
    if (it->is_object() && before.contains(key)) {
      out[key] = JsonDelta(before[key], *it);
    } else if (it->is_number_integer() && key != "concurrent_peak" &&
               before.contains(key) && before[key].is_number_integer()) {
      out[key] = it->get<int64_t>() - before[key].get<int64_t>();
    } else {
      out[key] = *it;
    }
  }
  if (out.contains("prompt_bytes") && out.contains("prefix_reused_bytes")) {
    const double bytes = out["prompt_bytes"].get<double>();
    out["prefix_reuse_share"] =
        bytes > 0 ? out["prefix_reused_bytes"].get<double>() / bytes : 0.0;
  }
  return out;
}

class Run;

// One GradeStream: requests are written one at a time from a queue (the
// callback API allows a single outstanding write), answers are matched to
// their start times by request_id.
class StreamWorker final
    : public grpc::ClientBidiReactor<GradeRequest, GradeResponse> {
 public:
  StreamWorker(Run* run, int index, RewardService::Stub* stub,
               absl::Duration deadline);
  void Begin();
  enum class SendResult {
    kSent,
    kBroken,  // the stream has ended: nothing was queued
    kClosed,  // Close() half-closed it (the run is draining): not queued
  };
  SendResult Send(GradeRequest request, Clock::time_point start);
  // Half-closes once every queued write went out.
  void Close();
  void Cancel() { context_.TryCancel(); }
  bool done() const { return done_.load(std::memory_order_acquire); }

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  Run* const run_;
  const int index_;
  grpc::ClientContext context_;
  GradeResponse response_;
  absl::Mutex mu_;
  // References to deque elements survive push_back, so the front can be
  // written while more requests are queued behind it.
  std::deque<GradeRequest> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Clock::time_point> starts_
      ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> done_{false};
};

class Run {
 public:
  Run(const LoadOptions& options, const RequestSource& source)
      : options_(options), source_(source) {
    for (auto& e : errors_) e.store(0);
  }

  absl::StatusOr<LoadResult> Go();

  // A call (or stream item) ended. Touches nothing of *this after the
  // outstanding_ decrement except when it starts the next call.
  void Done(Clock::time_point start, const grpc::Status& status, int64_t items,
            int64_t invalid, int64_t item_errors, int stream) {
    const Clock::time_point now = Clock::now();
    calls_total_.fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) {
      errors_[std::min<int>(status.error_code(), kStatusCodes - 1)].fetch_add(
          1, std::memory_order_relaxed);
    } else if (phase_.load(std::memory_order_acquire) == 1) {
      latency_.Record(absl::FromChrono(now - start));
      calls_.fetch_add(1, std::memory_order_relaxed);
      items_.fetch_add(items, std::memory_order_relaxed);
      invalid_.fetch_add(invalid, std::memory_order_relaxed);
      item_errors_.fetch_add(item_errors, std::memory_order_relaxed);
    }
    const bool next = !open_loop() && phase_.load() < 2;
    if (next) Issue(stream, Clock::now());
    outstanding_.fetch_sub(1, std::memory_order_acq_rel);
  }

 private:
  bool open_loop() const { return options_.rate > 0; }

  RewardService::Stub* NextStub() {
    return stubs_[next_stub_.fetch_add(1, std::memory_order_relaxed) %
                  stubs_.size()]
        .get();
  }

  // Starts call number next_ (stream items go to stream `stream`).
  void Issue(int stream, Clock::time_point start);
  void IssueUnary(int64_t i, Clock::time_point start);
  void IssueGroup(int64_t i, Clock::time_point start);
  void IssueGet(int64_t i, Clock::time_point start);
  void Prebuild();
  absl::Status Connect();
  // The phases of Go().
  void StartStreams(int concurrency);
  void Pace(Clock::time_point t0, int concurrency);  // the open loop's thread
  void RunClock(Clock::time_point t0);
  void Drain(bool stream);
  void CloseStreams();
  void SwitchToMeasure();
  void SwitchToDrain();
  LoadResult Collect();

  const LoadOptions& options_;
  const RequestSource& source_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<RewardService::Stub>> stubs_;
  std::vector<std::unique_ptr<StreamWorker>> streams_;
  std::vector<GradeRequest> prebuilt_unary_;
  std::vector<GradeGroupRequest> prebuilt_group_;
  std::vector<GetRubricRequest> prebuilt_get_;

  std::atomic<int> phase_{0};  // 0 warm-up, 1 measurement, 2 drain
  std::atomic<int64_t> next_{0};
  std::atomic<uint64_t> next_stub_{0};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<int64_t> issued_measured_{0};
  std::atomic<int64_t> calls_{0}, items_{0}, invalid_{0}, item_errors_{0};
  std::atomic<int64_t> calls_total_{0};
  std::array<std::atomic<int64_t>, kStatusCodes + 1> errors_;
  LatencyHistogram latency_;

  Clock::time_point measure_start_, measure_end_;
  double client_cpu_start_ = 0, client_cpu_end_ = 0;
  std::optional<double> server_cpu_start_, server_cpu_end_;
  std::optional<nlohmann::json> judge_before_, judge_after_;
};

StreamWorker::StreamWorker(Run* run, int index, RewardService::Stub* stub,
                           absl::Duration deadline)
    : run_(run), index_(index) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  stub->async()->GradeStream(&context_, this);
}

void StreamWorker::Begin() {
  StartRead(&response_);
  StartCall();
}

StreamWorker::SendResult StreamWorker::Send(GradeRequest request,
                                            Clock::time_point start) {
  GradeRequest* to_write = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (broken_) return SendResult::kBroken;
    // A call that ended just as the run switched to draining may still
    // issue its successor; writing after WritesDone would fail it, and the
    // run would count a failure that no server caused.
    if (closing_) return SendResult::kClosed;
    starts_[request.request_id()] = start;
    queue_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      to_write = &queue_.front();
    }
  }
  if (to_write != nullptr) StartWrite(to_write);
  return SendResult::kSent;
}

void StreamWorker::Close() {
  bool writes_done = false;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    if (!writing_ && !writes_done_ && !broken_) {
      writes_done_ = writes_done = true;
    }
  }
  if (writes_done) StartWritesDone();
}

void StreamWorker::OnWriteDone(bool ok) {
  GradeRequest* next = nullptr;
  bool writes_done = false;
  {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) {
      // The stream is broken; OnDone fails what is still unanswered.
      broken_ = true;
      writing_ = false;
      return;
    }
    if (!queue_.empty()) {
      next = &queue_.front();
    } else {
      writing_ = false;
      if (closing_ && !writes_done_) writes_done_ = writes_done = true;
    }
  }
  if (next != nullptr) StartWrite(next);
  if (writes_done) StartWritesDone();
}

void StreamWorker::OnReadDone(bool ok) {
  if (!ok) return;  // the server ended the stream: OnDone follows
  Clock::time_point start;
  bool known = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = starts_.find(response_.request_id());
    if (it != starts_.end()) {
      start = it->second;
      starts_.erase(it);
      known = true;
    }
  }
  const bool item_error = response_.has_error();
  const bool invalid = !response_.valid();
  StartRead(&response_);
  if (!known) return;
  if (item_error) {
    run_->Done(start, grpc::Status::OK, 1, invalid ? 1 : 0, 1, index_);
  } else {
    run_->Done(start, grpc::Status::OK, 1, invalid ? 1 : 0, 0, index_);
  }
}

void StreamWorker::OnDone(const grpc::Status& status) {
  std::vector<Clock::time_point> unanswered;
  {
    absl::MutexLock lock(&mu_);
    broken_ = true;
    for (const auto& [id, start] : starts_) unanswered.push_back(start);
    starts_.clear();
  }
  const grpc::Status failed =
      status.ok() ? grpc::Status(grpc::StatusCode::CANCELLED,
                                 "stream ended before this item's answer")
                  : status;
  for (Clock::time_point start : unanswered) {
    run_->Done(start, failed, 0, 0, 0, index_);
  }
  done_.store(true, std::memory_order_release);
}

void Run::Issue(int stream, Clock::time_point start) {
  const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
  if (options_.count > 0 && phase_.load(std::memory_order_acquire) == 1 &&
      issued_measured_.fetch_add(1, std::memory_order_relaxed) >=
          options_.count) {
    return;
  }
  outstanding_.fetch_add(1, std::memory_order_acq_rel);
  switch (options_.shape) {
    case LoadOptions::Shape::kUnary:
      IssueUnary(i, start);
      break;
    case LoadOptions::Shape::kGroup:
      IssueGroup(i, start);
      break;
    case LoadOptions::Shape::kGetRubric:
      IssueGet(i, start);
      break;
    case LoadOptions::Shape::kStream: {
      GradeRequest r = prebuilt_unary_.empty()
                           ? source_.Unary(i)
                           : prebuilt_unary_[i % prebuilt_unary_.size()];
      r.set_request_id(absl::StrCat("s", i));
      switch (streams_[stream % streams_.size()]->Send(std::move(r), start)) {
        case StreamWorker::SendResult::kSent:
          break;
        case StreamWorker::SendResult::kClosed:
          // Draining: this item is simply not issued.
          outstanding_.fetch_sub(1, std::memory_order_acq_rel);
          break;
        case StreamWorker::SendResult::kBroken:
          // The stream ended: count the item as failed without starting
          // another one (a closed loop would spin on a dead stream).
          errors_[grpc::StatusCode::UNAVAILABLE].fetch_add(1);
          calls_total_.fetch_add(1);
          outstanding_.fetch_sub(1, std::memory_order_acq_rel);
          break;
      }
      break;
    }
  }
}

namespace {

// One unary-style call in flight: its context (with the per-call deadline),
// the request when it is built for this call, and the answer.
template <typename Req, typename Resp>
struct PendingCall {
  grpc::ClientContext context;
  Req owned;
  Resp response;
};

// A new call whose request is prebuilt[i % size] or, when nothing was
// prebuilt, owned = build(); *request points at whichever it is.
template <typename Req, typename Resp, typename Build>
PendingCall<Req, Resp>* NewCall(const std::vector<Req>& prebuilt, int64_t i,
                                absl::Duration deadline, Build build,
                                const Req** request) {
  auto* call = new PendingCall<Req, Resp>;
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (prebuilt.empty()) {
    call->owned = build();
    *request = &call->owned;
  } else {
    *request = &prebuilt[i % prebuilt.size()];
  }
  return call;
}

}  // namespace

void Run::IssueUnary(int64_t i, Clock::time_point start) {
  const GradeRequest* request;
  auto* call = NewCall<GradeRequest, GradeResponse>(
      prebuilt_unary_, i, options_.deadline, [&] { return source_.Unary(i); },
      &request);
  NextStub()->async()->Grade(&call->context, request, &call->response,
                             [this, call, start](grpc::Status status) {
                               const bool invalid =
                                   status.ok() && !call->response.valid();
                               delete call;
                               Done(start, status, 1, invalid ? 1 : 0, 0, 0);
                             });
}

void Run::IssueGroup(int64_t i, Clock::time_point start) {
  const GradeGroupRequest* request;
  auto* call = NewCall<GradeGroupRequest, GradeGroupResponse>(
      prebuilt_group_, i, options_.deadline, [&] { return source_.Group(i); },
      &request);
  NextStub()->async()->GradeGroup(
      &call->context, request, &call->response,
      [this, call, start](grpc::Status status) {
        int64_t items = 0, invalid = 0, item_errors = 0;
        if (status.ok()) {
          for (const GradeResponse& r : call->response.results()) {
            ++items;
            if (!r.valid()) ++invalid;
            if (r.has_error()) ++item_errors;
          }
        }
        delete call;
        Done(start, status, items, invalid, item_errors, 0);
      });
}

void Run::IssueGet(int64_t i, Clock::time_point start) {
  const GetRubricRequest* request;
  auto* call = NewCall<GetRubricRequest, GetRubricResponse>(
      prebuilt_get_, i, options_.deadline,
      [&] {
        const GradeRequest u = source_.Unary(i);
        GetRubricRequest get;
        get.set_rubric_set(u.rubric_set());
        get.set_rubric_id(u.rubric_id());
        return get;
      },
      &request);
  NextStub()->async()->GetRubric(&call->context, request, &call->response,
                                 [this, call, start](grpc::Status status) {
                                   delete call;
                                   Done(start, status, 1, 0, 0, 0);
                                 });
}

void Run::Prebuild() {
  using Shape = LoadOptions::Shape;
  if (options_.shape == Shape::kGroup) {
    const int64_t period = source_.group_period();
    if (period <= 0 || period > options_.prebuild_limit) return;
    for (int64_t i = 0; i < period; ++i) {
      prebuilt_group_.push_back(source_.Group(i));
    }
    return;
  }
  const int64_t period = source_.unary_period();
  if (period <= 0 || period > options_.prebuild_limit) return;
  for (int64_t i = 0; i < period; ++i) {
    if (options_.shape == Shape::kGetRubric) {
      GradeRequest u = source_.Unary(i);
      GetRubricRequest g;
      g.set_rubric_set(u.rubric_set());
      g.set_rubric_id(u.rubric_id());
      prebuilt_get_.push_back(std::move(g));
    } else {
      prebuilt_unary_.push_back(source_.Unary(i));
    }
  }
}

absl::Status Run::Connect() {
  const int n = std::max(1, options_.channels);
  for (int c = 0; c < n; ++c) {
    grpc::ChannelArguments args;
    // Without a local subchannel pool, channels to one address share one
    // connection; the point of several channels is several connections.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(
        options_.target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", options_.target));
    }
    stubs_.push_back(RewardService::NewStub(channel));
    channels_.push_back(std::move(channel));
  }
  return absl::OkStatus();
}

void Run::SwitchToMeasure() {
  if (!options_.judge_stats_url.empty()) {
    judge_before_ =
        FetchJudgeStats(options_.judge_stats_url, options_.judge_reset);
  }
  if (options_.server_pid > 0) {
    absl::StatusOr<double> cpu = ProcessCpuSeconds(options_.server_pid);
    if (cpu.ok()) server_cpu_start_ = *cpu;
  }
  client_cpu_start_ = SelfCpuSeconds();
  measure_start_ = Clock::now();
  phase_.store(1, std::memory_order_release);
}

void Run::SwitchToDrain() {
  phase_.store(2, std::memory_order_release);
  measure_end_ = Clock::now();
  client_cpu_end_ = SelfCpuSeconds();
  if (options_.server_pid > 0) {
    absl::StatusOr<double> cpu = ProcessCpuSeconds(options_.server_pid);
    if (cpu.ok()) server_cpu_end_ = *cpu;
  }
  if (!options_.judge_stats_url.empty()) {
    judge_after_ = FetchJudgeStats(options_.judge_stats_url, false);
  }
}

absl::StatusOr<LoadResult> Run::Go() {
  if (absl::Status s = Connect(); !s.ok()) return s;
  Prebuild();
  const bool stream = options_.shape == LoadOptions::Shape::kStream;
  const int concurrency = std::max(1, options_.concurrency);
  if (stream) StartStreams(concurrency);

  const Clock::time_point t0 = Clock::now();
  if (options_.warmup <= absl::ZeroDuration()) SwitchToMeasure();
  std::thread pacer;
  if (open_loop()) {
    pacer = std::thread([this, t0, concurrency] { Pace(t0, concurrency); });
  } else {
    // Closed loop: start `concurrency` calls; each completion starts the
    // next one (Done -> Issue), spread over the streams in stream mode.
    for (int c = 0; c < concurrency; ++c) Issue(c, Clock::now());
  }
  RunClock(t0);
  if (pacer.joinable()) pacer.join();
  Drain(stream);
  return Collect();
}

void Run::StartStreams(int concurrency) {
  const int n = std::max(1, std::min(options_.streams, concurrency));
  const absl::Duration stream_deadline = options_.warmup + options_.duration +
                                         options_.deadline + absl::Seconds(5);
  for (int s = 0; s < n; ++s) {
    streams_.push_back(std::make_unique<StreamWorker>(
        this, s, stubs_[s % stubs_.size()].get(), stream_deadline));
    streams_.back()->Begin();
  }
}

// Calls are due at t0 + k / rate; each one's latency counts from when it
// was due, so a server that falls behind shows its queueing delay.
void Run::Pace(Clock::time_point t0, int concurrency) {
  const double interval_ns = 1e9 / options_.rate;
  for (int64_t k = 0;; ++k) {
    const Clock::time_point due =
        t0 + std::chrono::nanoseconds(static_cast<int64_t>(k * interval_ns));
    std::this_thread::sleep_until(due);
    if (phase_.load(std::memory_order_acquire) == 2) break;
    if (options_.count > 0 && phase_.load() == 1 &&
        issued_measured_.load() >= options_.count) {
      break;
    }
    if (outstanding_.load(std::memory_order_acquire) >= concurrency) {
      errors_[kBacklogSlot].fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Issue(static_cast<int>(k), due);
  }
}

// The clock of the run: warm-up, then measurement until the duration, the
// count or the stop file ends it.
void Run::RunClock(Clock::time_point t0) {
  const Clock::time_point warm_end =
      t0 + absl::ToChronoNanoseconds(options_.warmup);
  const Clock::time_point run_end =
      warm_end + absl::ToChronoNanoseconds(options_.duration);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const Clock::time_point now = Clock::now();
    const int phase = phase_.load();
    if (phase == 0 && now >= warm_end) {
      SwitchToMeasure();
    } else if (phase == 1) {
      const bool count_done = options_.count > 0 &&
                              issued_measured_.load() >= options_.count &&
                              outstanding_.load() == 0;
      const bool stopped = !options_.stop_file.empty() &&
                           access(options_.stop_file.c_str(), F_OK) == 0;
      if (now >= run_end || count_done || stopped) {
        SwitchToDrain();
        return;
      }
    }
  }
}

// Outstanding calls finish or reach their deadline; streams are closed (and
// cancelled if they do not end), then the last callbacks return.
void Run::Drain(bool stream) {
  const Clock::time_point drain_end =
      Clock::now() + absl::ToChronoNanoseconds(options_.deadline) +
      std::chrono::seconds(2);
  while (outstanding_.load() > 0 && Clock::now() < drain_end) {
    if (stream) {
      // A stream half-closes when nothing of it is outstanding; closing them
      // all early is fine: Close() waits for queued writes.
      for (auto& s : streams_) s->Close();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (stream) CloseStreams();
  // Callbacks decrement outstanding_ as their last step; give them time to
  // return before the channels go away.
  while (outstanding_.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void Run::CloseStreams() {
  for (auto& s : streams_) s->Close();
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(5);
  for (auto& s : streams_) {
    while (!s->done() && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!s->done()) s->Cancel();
  }
  for (auto& s : streams_) {
    while (!s->done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

LoadResult Run::Collect() {
  LoadResult r;
  r.shape = ShapeName(options_.shape);
  r.open_loop = open_loop();
  r.rate = options_.rate;
  r.concurrency = options_.concurrency;
  r.measured = absl::FromChrono(measure_end_ - measure_start_);
  r.calls = calls_.load();
  r.items = items_.load();
  r.invalid_items = invalid_.load();
  r.item_errors = item_errors_.load();
  r.calls_total = calls_total_.load();
  for (int c = 1; c <= kBacklogSlot; ++c) {
    const int64_t n = errors_[c].load();
    if (n > 0) {
      r.errors[StatusName(c)] = n;
      r.failed_total += n;
    }
  }
  r.latency = latency_.Summarize();
  const double seconds = absl::ToDoubleSeconds(r.measured);
  if (seconds > 0) {
    r.calls_per_second = double(r.calls) / seconds;
    r.items_per_second = double(r.items) / seconds;
  }
  r.client_cpu_seconds = client_cpu_end_ - client_cpu_start_;
  if (server_cpu_start_ && server_cpu_end_) {
    r.server_cpu_seconds = *server_cpu_end_ - *server_cpu_start_;
  }
  if (judge_before_ && judge_after_) {
    r.judge_stats = JsonDelta(*judge_before_, *judge_after_);
  }
  return r;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

}  // namespace

absl::StatusOr<double> ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: fields are counted from the
  // closing parenthesis; utime and stime are fields 14 and 15.
  const size_t paren = text.rfind(')');
  if (text.empty() || paren == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("no /proc/", pid, "/stat"));
  }
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int n = 3; n <= 15 && (fields >> field); ++n) {
    if (n == 14) utime = std::stoll(field);
    if (n == 15) stime = std::stoll(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options,
                                   const RequestSource& source) {
  if (options.duration <= absl::ZeroDuration() && options.count <= 0) {
    return absl::InvalidArgumentError("need a duration or a count");
  }
  Run run(options, source);
  return run.Go();
}

nlohmann::json ToJson(const LoadResult& r) {
  nlohmann::json j = {
      {"shape", r.shape},
      {"open_loop", r.open_loop},
      {"rate", r.rate},
      {"concurrency", r.concurrency},
      {"measured_seconds", absl::ToDoubleSeconds(r.measured)},
      {"calls", r.calls},
      {"items", r.items},
      {"calls_per_second", r.calls_per_second},
      {"items_per_second", r.items_per_second},
      {"invalid_items", r.invalid_items},
      {"item_errors", r.item_errors},
      {"calls_total", r.calls_total},
      {"failed_total", r.failed_total},
      {"errors", r.errors},
      {"latency_ms",
       {{"count", r.latency.count},
        {"min", Ms(r.latency.min)},
        {"mean", Ms(r.latency.mean)},
        {"p50", Ms(r.latency.p50)},
        {"p90", Ms(r.latency.p90)},
        {"p99", Ms(r.latency.p99)},
        {"p999", Ms(r.latency.p999)},
        {"max", Ms(r.latency.max)}}},
      {"client_cpu_seconds", r.client_cpu_seconds},
  };
  if (r.server_cpu_seconds) j["server_cpu_seconds"] = *r.server_cpu_seconds;
  if (r.judge_stats) j["judge_stats"] = *r.judge_stats;
  return j;
}

std::string FormatText(const LoadResult& r) {
  std::string out = absl::StrFormat(
      "%s %s loop, %s: %.1f s measured\n"
      "  throughput: %.1f calls/s, %.1f items/s (%d calls, %d items)\n"
      "  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
      r.shape, r.open_loop ? "open" : "closed",
      r.open_loop ? absl::StrFormat("%.0f/s", r.rate)
                  : absl::StrFormat("concurrency %d", r.concurrency),
      absl::ToDoubleSeconds(r.measured), r.calls_per_second, r.items_per_second,
      r.calls, r.items, Ms(r.latency.p50), Ms(r.latency.p90), Ms(r.latency.p99),
      Ms(r.latency.p999), Ms(r.latency.max));
  absl::StrAppendFormat(&out, "  failed calls (whole run): %d", r.failed_total);
  for (const auto& [name, n] : r.errors) {
    absl::StrAppendFormat(&out, " %s=%d", name, n);
  }
  absl::StrAppendFormat(&out, "; invalid items %d; item errors %d\n",
                        r.invalid_items, r.item_errors);
  absl::StrAppendFormat(&out, "  client cpu %.2f s", r.client_cpu_seconds);
  if (r.server_cpu_seconds) {
    absl::StrAppendFormat(&out, "; server cpu %.2f s", *r.server_cpu_seconds);
  }
  out += "\n";
  if (r.judge_stats)
    absl::StrAppend(&out, "  judge: ", r.judge_stats->dump(), "\n");
  return out;
}

}  // namespace rewardd::bench
