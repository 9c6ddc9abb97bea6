#include "server/service/reward_service.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/service/proto_convert.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using LabelMap = google::protobuf::Map<std::string, std::string>;

// The request's labels as the grade observer takes them (views into `labels`).
std::vector<GradeLabel> LabelViews(const LabelMap& labels) {
  std::vector<GradeLabel> views;
  views.reserve(labels.size());
  for (const auto& label : labels) {
    views.emplace_back(label.first, label.second);
  }
  return views;
}

// The deadline judge work must meet: the RPC's, less a margin (a tenth of
// the time left, at most 100 ms) so that a response whose judges ran out of
// time still reaches the client, with TIMEOUT statuses, before the client
// gives up on the call.
absl::Time DeadlineOf(grpc::CallbackServerContext* context) {
  if (context == nullptr) return absl::InfiniteFuture();
  const auto deadline = context->deadline();
  // No deadline shows as a far-future time point; keep it infinite rather
  // than risk overflow in the conversion.
  if (deadline >
      std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  const absl::Time rpc_deadline = absl::FromChrono(deadline);
  const absl::Duration margin =
      std::min(absl::Milliseconds(100), (rpc_deadline - absl::Now()) / 10);
  return rpc_deadline - std::max(margin, absl::ZeroDuration());
}

void ErrorToProto(const absl::Status& status, pb::GradeResponse* response) {
  response->set_valid(false);
  response->mutable_error()->set_code(static_cast<int>(status.code()));
  response->mutable_error()->set_message(std::string(status.message()));
  response->set_invalid_reason(std::string(status.message()));
}

absl::Status DrainingError() {
  return absl::UnavailableError(
      "rewardd is draining (shutting down); retry on another replica");
}

}  // namespace

absl::Status RewardServiceImpl::Admit(
    grpc::CallbackServerContext* context) const {
  if (draining()) return DrainingError();
  if (options_.auth != nullptr) {
    absl::Status auth = options_.auth->Check(context->client_metadata());
    if (!auth.ok()) return auth;
  }
  // in_flight() counts this RPC already.
  if (static_cast<size_t>(in_flight()) > options_.max_inflight_requests) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rewardd has ", in_flight() - 1, " requests in flight; the limit is ",
        options_.max_inflight_requests,
        " (--max_inflight_requests); retry with backoff or on another "
        "replica"));
  }
  return absl::OkStatus();
}

absl::Status RewardServiceImpl::AdmitStream() const {
  // open_streams_ counts this stream already.
  const int64_t open = open_streams_.load(std::memory_order_acquire);
  if (static_cast<size_t>(open) > options_.max_concurrent_streams) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rewardd has ", open - 1, " GradeStreams open; the limit is ",
        options_.max_concurrent_streams,
        " (--max_concurrent_streams); reuse a stream or retry later"));
  }
  return absl::OkStatus();
}

namespace {

// Answers one unary RPC after asynchronous work; cancels that work when the
// client goes away.
class AsyncUnaryReactor : public grpc::ServerUnaryReactor {
 public:
  AsyncUnaryReactor(const RewardServiceImpl* service, absl::string_view method)
      : service_(service),
        method_(method),
        started_(absl::Now()),
        cancellation_(std::make_shared<Cancellation>()) {
    service_->RpcStarted();
  }

  std::shared_ptr<const Cancellation> cancellation() const {
    return cancellation_;
  }

  void Respond(const absl::Status& status) {
    code_ = status.code();
    Finish(ToGrpcStatus(status));
  }

  void OnCancel() override { cancellation_->Cancel(); }

  // Both reactions are trivial and never block (a flag store; counters and
  // a delete), so gRPC may run them on the thread that completes the call
  // instead of handing each to its executor. Without this every unary call
  // paid a thread hop for OnDone (~33,000 executor wake-ups a second at
  // 40,000 calls/s in bench scenario 1). The hook is public in gRPC 1.51's
  // ServerReactor and is what ServerContext's own default reactor uses;
  // keep these two reactions trivial if you change them.
  bool InternalInlineable() override { return true; }

  void OnDone() override {
    if (service_->observer() != nullptr) {
      service_->observer()->OnRpcDone(method_, code_, absl::Now() - started_);
    }
    service_->RpcDone();
    delete this;
  }

 private:
  const RewardServiceImpl* service_;
  const absl::string_view method_;
  const absl::Time started_;
  const std::shared_ptr<Cancellation> cancellation_;
  absl::StatusCode code_ = absl::StatusCode::kOk;
};

// GradeStream: reads requests, grades up to max_stream_inflight at once, and
// writes each answer as it completes. Reading pauses while that many items
// are being graded or waiting to be written, so a client that does not read
// its answers costs bounded memory (HTTP/2 flow control then pushes back on
// its writes). Every item gets exactly one answer; a bad item gets `error`
// and the stream goes on.
class GradeStreamReactor
    : public grpc::ServerBidiReactor<pb::GradeRequest, pb::GradeResponse> {
 public:
  GradeStreamReactor(const RewardServiceImpl* service,
                     grpc::CallbackServerContext* context)
      : service_(service),
        context_(context),
        started_(absl::Now()),
        cancellation_(std::make_shared<Cancellation>()) {
    service_->RpcStarted();
    service_->StreamOpened();
    absl::Status admit = service_->Admit(context);
    if (admit.ok()) admit = service_->AdmitStream();
    if (!admit.ok()) {
      code_ = admit.code();
      absl::MutexLock lock(&mu_);
      finished_ = true;
      Finish(ToGrpcStatus(admit));
      return;
    }
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      read_done_ = true;
      MaybeFinishLocked();
      return;
    }
    if (service_->observer() != nullptr) service_->observer()->OnStreamItem();
    auto request = std::make_shared<pb::GradeRequest>();
    request->Swap(&incoming_);
    {
      absl::MutexLock lock(&mu_);
      ++outstanding_;
    }
    if (request->request_id().empty() || service_->draining()) {
      pb::GradeResponse response;
      response.set_request_id(request->request_id());
      ErrorToProto(service_->draining()
                       ? DrainingError()
                       : absl::InvalidArgumentError(
                             "request_id is empty; GradeStream answers may "
                             "come back in any order, so every item needs a "
                             "request_id"),
                   &response);
      Complete(std::move(response));
    } else {
      // The answer is graded into `item`, which the callback keeps alive.
      auto item = std::make_shared<pb::GradeResponse>();
      pb::GradeResponse* out = item.get();
      service_->GradeOne(*request, context_, cancellation_, out,
                         [this, request, item](absl::Status status) {
                           if (!status.ok()) {
                             item->set_request_id(request->request_id());
                             ErrorToProto(status, item.get());
                           }
                           Complete(std::move(*item));
                         });
    }
    absl::MutexLock lock(&mu_);
    if (outstanding_ < service_->options().max_stream_inflight) {
      StartRead(&incoming_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writes_.pop_front();
    --outstanding_;
    if (!ok) broken_ = true;  // client gone: finish without writing
    WriteNextLocked();
    ResumeReadLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override { cancellation_->Cancel(); }

  // Not InternalInlineable, unlike AsyncUnaryReactor: gRPC 1.51 assumes no
  // bidi reactor is (server_callback_handlers.h), and a stream refused in
  // this constructor then had OnDone run inline and gRPC abort on a
  // double unref ("ref_counted.h:183 prior > 0", limits_test, 1 run in 20).

  void OnDone() override {
    if (service_->observer() != nullptr) {
      service_->observer()->OnRpcDone("GradeStream", code_,
                                      absl::Now() - started_);
    }
    service_->StreamClosed();
    service_->RpcDone();
    delete this;
  }

 private:
  void Complete(pb::GradeResponse response) {
    absl::MutexLock lock(&mu_);
    if (broken_) {
      --outstanding_;
      ResumeReadLocked();
      MaybeFinishLocked();
      return;
    }
    writes_.push_back(std::move(response));
    if (!writing_) WriteNextLocked();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (broken_) {
      // Answers that can no longer be delivered are dropped, not queued.
      outstanding_ -= writes_.size();
      writes_.clear();
    }
    writing_ = !writes_.empty();
    // std::deque keeps references to its front stable across push_back.
    if (!writing_) return;
    // More answers queued behind this one: let gRPC coalesce them into
    // fewer frames and syscalls instead of flushing each.
    grpc::WriteOptions options;
    if (writes_.size() > 1) options.set_buffer_hint();
    StartWrite(&writes_.front(), options);
  }

  void ResumeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (read_paused_ && !read_done_ &&
        outstanding_ < service_->options().max_stream_inflight) {
      read_paused_ = false;
      StartRead(&incoming_);
    }
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || outstanding_ > 0) return;
    if (!read_done_ && !broken_) return;
    finished_ = true;
    Finish(grpc::Status::OK);
  }

  const RewardServiceImpl* service_;
  grpc::CallbackServerContext* context_;
  const absl::Time started_;
  const std::shared_ptr<Cancellation> cancellation_;
  absl::StatusCode code_ = absl::StatusCode::kOk;
  pb::GradeRequest incoming_;  // only one read is outstanding at a time

  absl::Mutex mu_;
  // Items read and not yet written (being graded, or queued to write).
  size_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<pb::GradeResponse> writes_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Collects a group's answers in request order.
struct GroupState {
  AsyncUnaryReactor* reactor;
  pb::GradeGroupResponse* response;
  std::atomic<size_t> remaining{0};
  absl::Mutex mu;
  absl::Status first_error ABSL_GUARDED_BY(mu);

  void Finish() {
    absl::Status error;
    {
      absl::MutexLock lock(&mu);
      error = first_error;
    }
    if (!error.ok()) {
      response->clear_results();
      reactor->Respond(error);
      return;
    }
    double sum = 0, sum_sq = 0;
    uint32_t valid = 0;
    for (const pb::GradeResponse& r : response->results()) {
      if (!r.valid()) continue;
      ++valid;
      sum += r.reward();
      sum_sq += r.reward() * r.reward();
    }
    if (valid > 0) {
      const double mean = sum / valid;
      response->set_mean_reward(mean);
      response->set_std_reward(
          std::sqrt(std::max(0.0, sum_sq / valid - mean * mean)));
    }
    response->set_valid_count(valid);
    reactor->Respond(absl::OkStatus());
  }
};

std::shared_ptr<const RubricSet> FindSet(const RubricStore& store,
                                         absl::string_view name) {
  std::shared_ptr<const StoreSnapshot> snapshot = store.snapshot();
  auto it = snapshot->sets.find(name);
  return it == snapshot->sets.end() ? nullptr : it->second;
}

}  // namespace

RewardServiceImpl::RewardServiceImpl(const RubricStore* store,
                                     const Grader* grader,
                                     ServiceOptions options,
                                     GradeObserver* observer)
    : store_(store),
      grader_(grader),
      options_(options),
      observer_(observer),
      inline_rubrics_(options.inline_rubric_cache_size) {}

template <typename Req>
absl::StatusOr<std::shared_ptr<GradeInput>> RewardServiceImpl::ResolveBase(
    const Req& request, grpc::CallbackServerContext* context,
    std::shared_ptr<const Cancellation> cancellation) const {
  auto input = std::make_shared<GradeInput>();
  input->received = absl::Now();
  input->deadline = DeadlineOf(context);
  input->cancellation = std::move(cancellation);

  // The prompt: text or chat messages, not both.
  if (!request.prompt().empty() && request.messages_size() > 0) {
    return absl::InvalidArgumentError(
        "set either prompt or messages, not both");
  }
  size_t prompt_bytes = request.prompt().size();
  if (request.messages_size() > 0) {
    input->messages.reserve(request.messages_size());
    for (int i = 0; i < request.messages_size(); ++i) {
      const pb::Message& m = request.messages(i);
      if (m.role().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("messages[", i, "].role is empty"));
      }
      prompt_bytes += m.content().size();
      input->messages.push_back({m.role(), m.content()});
    }
    input->prompt = CanonicalPrompt(input->messages);
  } else {
    input->prompt = request.prompt();
  }
  if (prompt_bytes > options_.max_prompt_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the prompt is ", prompt_bytes, " bytes; the limit is ",
                     options_.max_prompt_bytes, " (--max_prompt_bytes)"));
  }

  // The rubric: inline or by reference.
  if (request.has_rubric()) {
    if (!request.rubric_set().empty() || !request.rubric_id().empty()) {
      return absl::InvalidArgumentError(
          "set either an inline rubric or rubric_set/rubric_id, not both");
    }
    if (static_cast<size_t>(request.rubric().criteria_size()) >
        options_.max_criteria_per_rubric) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the inline rubric has ", request.rubric().criteria_size(),
          " criteria; the limit is ", options_.max_criteria_per_rubric,
          " (--max_criteria_per_rubric)"));
    }
    absl::StatusOr<std::shared_ptr<const Rubric>> rubric =
        inline_rubrics_.Get(request.rubric());
    if (!rubric.ok()) return rubric.status();
    input->rubric = std::move(*rubric);
  } else {
    if (request.rubric_set().empty()) {
      return absl::InvalidArgumentError(
          "no rubric: set rubric_set (and rubric_id, or a prompt that a "
          "rubric of the set was written for), or an inline rubric");
    }
    std::shared_ptr<const RubricSet> set =
        FindSet(*store_, request.rubric_set());
    if (set == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "rubric set '", request.rubric_set(),
          "' is not loaded; ListRubricSets shows the sets there are"));
    }
    const std::shared_ptr<const Rubric>* rubric = nullptr;
    if (!request.rubric_id().empty()) {
      rubric = set->FindById(request.rubric_id());
      if (rubric == nullptr) {
        return absl::NotFoundError(absl::StrCat("rubric set '", set->name,
                                                "' has no rubric '",
                                                request.rubric_id(), "'"));
      }
    } else {
      rubric = set->FindByPrompt(input->prompt);
      if (rubric == nullptr) {
        return absl::NotFoundError(absl::StrCat(
            "rubric set '", set->name,
            "' has no rubric written for this prompt; set rubric_id"));
      }
    }
    input->rubric = *rubric;
    input->rubric_set = set->name;
  }

  const pb::GradeOptions& options = request.options();
  absl::StatusOr<Judge*> judge = grader_->judges().Find(options.judge());
  if (!judge.ok()) {
    return absl::InvalidArgumentError(judge.status().message());
  }
  input->mode = GradingModeFromProto(options.mode());
  input->chunk_size = options.chunk_size();
  input->include_explanations = options.include_explanations();
  input->skip_cache = options.skip_cache();
  input->votes = options.votes();
  return input;
}

void RewardServiceImpl::GradeResolved(
    std::shared_ptr<GradeInput> input, const std::string& response,
    const pb::GradeOptions& options, const LabelMap& labels,
    std::string request_id, pb::GradeResponse* out, DoneCallback done) const {
  if (response.size() > options_.max_response_bytes) {
    std::move(done)(absl::InvalidArgumentError(absl::StrCat(
        "the response is ", response.size(), " bytes; the limit is ",
        options_.max_response_bytes, " (--max_response_bytes)")));
    return;
  }
  input->response = response;
  const bool explanations = options.include_explanations();
  grader_->Grade(
      input, options.judge(), ScoringFromProto(options),
      [this, explanations, &labels, request_id = std::move(request_id), out,
       done = std::move(done)](absl::StatusOr<GradeResult> result) mutable {
        if (!result.ok()) {
          std::move(done)(result.status());
          return;
        }
        out->set_request_id(std::move(request_id));
        GradeResultToProto(*result, explanations, out);
        const absl::Duration total = absl::Now() - result->input->received;
        out->mutable_timings()->set_total_seconds(absl::ToDoubleSeconds(total));
        if (observer_ != nullptr) {
          const std::vector<GradeLabel> label_views = LabelViews(labels);
          GradedRequest graded;
          graded.request_id = out->request_id();
          graded.labels = label_views;
          graded.total_time = total;
          observer_->OnGraded(*result, graded);
        }
        std::move(done)(absl::OkStatus());
      });
}

void RewardServiceImpl::GradeOne(
    const pb::GradeRequest& request, grpc::CallbackServerContext* context,
    std::shared_ptr<const Cancellation> cancellation, pb::GradeResponse* out,
    DoneCallback done) const {
  absl::StatusOr<std::shared_ptr<GradeInput>> base =
      ResolveBase(request, context, std::move(cancellation));
  if (!base.ok()) {
    std::move(done)(base.status());
    return;
  }
  GradeResolved(*std::move(base), request.response(), request.options(),
                request.labels(), request.request_id(), out, std::move(done));
}

bool RewardServiceImpl::WaitIdle(absl::Time deadline) const {
  while (in_flight() > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

grpc::ServerUnaryReactor* RewardServiceImpl::Grade(
    grpc::CallbackServerContext* context, const pb::GradeRequest* request,
    pb::GradeResponse* response) {
  auto* reactor = new AsyncUnaryReactor(this, "Grade");
  if (absl::Status admit = Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  GradeOne(*request, context, reactor->cancellation(), response,
           [reactor](absl::Status status) { reactor->Respond(status); });
  return reactor;
}

grpc::ServerUnaryReactor* RewardServiceImpl::GradeGroup(
    grpc::CallbackServerContext* context, const pb::GradeGroupRequest* request,
    pb::GradeGroupResponse* response) {
  auto* reactor = new AsyncUnaryReactor(this, "GradeGroup");
  if (absl::Status admit = Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  const size_t n = request->responses_size();
  if (observer_ != nullptr) observer_->OnGroupSize(n);
  if (n == 0) {
    reactor->Respond(absl::InvalidArgumentError(
        "responses is empty; a group needs at least one response"));
    return reactor;
  }
  if (n > options_.max_group_size) {
    reactor->Respond(absl::InvalidArgumentError(
        absl::StrCat("the group has ", n, " responses; the limit is ",
                     options_.max_group_size, " (--max_group_size)")));
    return reactor;
  }
  absl::StatusOr<std::shared_ptr<const GradeInput>> base =
      ResolveBase(*request, context, reactor->cancellation());
  if (!base.ok()) {
    reactor->Respond(base.status());
    return reactor;
  }
  response->set_request_id(request->request_id());
  for (size_t i = 0; i < n; ++i) response->add_results();
  auto state = std::make_shared<GroupState>();
  state->reactor = reactor;
  state->response = response;
  state->remaining.store(n);
  for (size_t i = 0; i < n; ++i) {
    GradeResolved(
        std::make_shared<GradeInput>(**base), request->responses(i),
        request->options(), request->labels(),
        absl::StrCat(request->request_id(), "/", i),
        response->mutable_results(i), [state, i](absl::Status status) {
          if (!status.ok()) {
            absl::MutexLock lock(&state->mu);
            if (state->first_error.ok()) {
              state->first_error = absl::Status(
                  status.code(),
                  absl::StrCat("responses[", i, "]: ", status.message()));
            }
          }
          if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            state->Finish();
          }
        });
  }
  return reactor;
}

grpc::ServerBidiReactor<pb::GradeRequest, pb::GradeResponse>*
RewardServiceImpl::GradeStream(grpc::CallbackServerContext* context) {
  return new GradeStreamReactor(this, context);
}

grpc::ServerUnaryReactor* RewardServiceImpl::ListRubricSets(
    grpc::CallbackServerContext* context, const pb::ListRubricSetsRequest*,
    pb::ListRubricSetsResponse* response) {
  auto* reactor = new AsyncUnaryReactor(this, "ListRubricSets");
  if (absl::Status admit = Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  std::shared_ptr<const StoreSnapshot> snapshot = store_->snapshot();
  for (const std::string& name : snapshot->SortedNames()) {
    RubricSetInfoToProto(*snapshot->Find(name), response->add_sets());
  }
  reactor->Respond(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RewardServiceImpl::GetRubric(
    grpc::CallbackServerContext* context, const pb::GetRubricRequest* request,
    pb::GetRubricResponse* response) {
  auto* reactor = new AsyncUnaryReactor(this, "GetRubric");
  if (absl::Status admit = Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  std::shared_ptr<const RubricSet> set =
      FindSet(*store_, request->rubric_set());
  if (set == nullptr) {
    reactor->Respond(absl::NotFoundError(absl::StrCat(
        "rubric set '", request->rubric_set(), "' is not loaded")));
    return reactor;
  }
  const std::shared_ptr<const Rubric>* rubric =
      set->FindById(request->rubric_id());
  if (rubric == nullptr) {
    reactor->Respond(absl::NotFoundError(
        absl::StrCat("rubric set '", set->name, "' has no rubric '",
                     request->rubric_id(), "'")));
    return reactor;
  }
  RubricToProto(**rubric, response->mutable_rubric());
  response->set_rubric_set(set->name);
  response->set_set_version(set->version);
  reactor->Respond(absl::OkStatus());
  return reactor;
}

}  // namespace rewardd
