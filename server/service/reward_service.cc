#include "server/service/reward_service.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/service/grade_handler.h"
#include "server/service/grade_stream_reactor.h"
#include "server/service/proto_convert.h"
#include "server/service/wire_status.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

// Answers one unary RPC after asynchronous work; cancels that work when the
// client goes away.
class AsyncUnaryReactor : public grpc::ServerUnaryReactor {
 public:
  AsyncUnaryReactor(Admission* admission, GradeObserver* observer,
                    absl::string_view method)
      : admission_(admission),
        observer_(observer),
        method_(method),
        started_(absl::Now()),
        cancellation_(std::make_shared<Cancellation>()) {
    admission_->RpcStarted();
  }

  std::shared_ptr<const Cancellation> cancellation() const {
    return cancellation_;
  }

  void Respond(const absl::Status& status) {
    code_ = status.code();
    Finish(ToWireStatus(status));
  }

  void OnCancel() override { cancellation_->Cancel(); }

  // Both reactions are trivial and never block (a flag store; counters and
  // a delete), so gRPC may run them on the thread that completes the call
  // instead of handing each to its executor, which spares every unary call
  // a thread hop for OnDone (docs/benchmarks.md, scenario 1). The hook is
  // public in gRPC 1.51's ServerReactor and is what ServerContext's own
  // default reactor uses; keep these two reactions trivial if you change
  // them.
  bool InternalInlineable() override { return true; }

  void OnDone() override {
    if (observer_ != nullptr) {
      observer_->OnRpcDone(method_, code_, absl::Now() - started_);
    }
    admission_->RpcDone();
    delete this;
  }

 private:
  Admission* const admission_;
  GradeObserver* const observer_;
  const absl::string_view method_;
  const absl::Time started_;
  const std::shared_ptr<Cancellation> cancellation_;
  absl::StatusCode code_ = absl::StatusCode::kOk;
};

// The highest reward the request's scoring formula can give.
double MaxPossibleReward(const Rubric& rubric,
                         const pb::GradeOptions& options) {
  if (ScoringFromProto(options).formula != ScoringFormula::kRawSum) return 1.0;
  double sum = 0;
  for (const Criterion& c : rubric.criteria) sum += std::max(0.0, c.weight);
  return sum;
}

// Collects a group's answers in request order.
struct GroupState {
  AsyncUnaryReactor* reactor;
  pb::GradeGroupResponse* response;
  // For the observer's per-group call (null observer: unused).
  GradeObserver* observer = nullptr;
  const pb::GradeGroupRequest* request = nullptr;
  std::shared_ptr<const GradeInput> base;
  std::string set_version;
  // One slot per response, filled by the handler before its answer.
  std::vector<GradeResult> results;
  std::atomic<size_t> remaining{0};
  absl::Mutex mu;
  absl::Status first_error ABSL_GUARDED_BY(mu);

  // One response's answer; the last one finishes the RPC.
  void Answered(size_t i, const absl::Status& status) {
    if (!status.ok()) {
      absl::MutexLock lock(&mu);
      if (first_error.ok()) {
        first_error = absl::Status(
            status.code(),
            absl::StrCat("responses[", i, "]: ", status.message()));
      }
    }
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Finish();
  }

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
    ReportGroup();
    reactor->Respond(absl::OkStatus());
  }

  // The observer's per-group call: before the answer, while the request is
  // still alive.
  void ReportGroup() {
    if (observer == nullptr || base == nullptr || base->rubric == nullptr) {
      return;
    }
    const LabelViewVector labels = LabelViews(request->labels());
    GradedGroup group;
    group.base = base.get();
    group.set_version = set_version;
    group.labels = labels;
    group.max_possible = MaxPossibleReward(*base->rubric, request->options());
    group.results = results;
    observer->OnGroupGraded(group);
  }
};

// The loaded version of `rubric_set` ("" for inline rubrics or a set gone
// since the request was resolved).
std::string SetVersionOf(const RubricStore* store,
                         const std::string& rubric_set) {
  if (rubric_set.empty()) return "";
  std::shared_ptr<const StoreSnapshot> snapshot = store->snapshot();
  const RubricSet* set = snapshot->Find(rubric_set);
  return set != nullptr ? set->version : "";
}

// The group-size limits of GradeGroup (INVALID_ARGUMENT).
absl::Status CheckGroupSize(size_t n, size_t max_group_size) {
  if (n == 0) {
    return absl::InvalidArgumentError(
        "responses is empty; a group needs at least one response");
  }
  if (n > max_group_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the group has ", n, " responses; the limit is ",
                     max_group_size, " (--max_group_size)"));
  }
  return absl::OkStatus();
}

}  // namespace

RewardServiceImpl::RewardServiceImpl(const RubricStore* store,
                                     const Grader* grader,
                                     ServiceOptions options,
                                     Admission* admission,
                                     GradeObserver* observer)
    : store_(store),
      admission_(admission),
      handler_(std::make_unique<const GradeHandler>(store, grader, options,
                                                    observer)) {}

RewardServiceImpl::~RewardServiceImpl() = default;

grpc::ServerUnaryReactor* RewardServiceImpl::Grade(
    grpc::CallbackServerContext* context, const pb::GradeRequest* request,
    pb::GradeResponse* response) {
  auto* reactor =
      new AsyncUnaryReactor(admission_, handler_->observer(), "Grade");
  if (absl::Status admit = admission_->Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  handler_->GradeOne(
      *request, context, reactor->cancellation(), response,
      [reactor](absl::Status status) { reactor->Respond(status); });
  return reactor;
}

void RewardServiceImpl::GradeInProcess(
    const pb::GradeRequest& request,
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    absl::Time rpc_deadline, std::shared_ptr<const Cancellation> cancellation,
    pb::GradeResponse* response,
    absl::AnyInvocable<void(absl::Status) &&> done) {
  // What AsyncUnaryReactor does around Grade(): counted in flight from
  // here, observed and released when answered, errors as gRPC codes.
  admission_->RpcStarted();
  auto finish = [this, started = absl::Now(),
                 done = std::move(done)](absl::Status status) mutable {
    if (GradeObserver* observer = handler_->observer()) {
      observer->OnRpcDone("Grade", status.code(), absl::Now() - started);
    }
    admission_->RpcDone();
    const grpc::Status wire = ToWireStatus(status);
    std::move(done)(
        absl::Status(static_cast<absl::StatusCode>(wire.error_code()),
                     wire.error_message()));
  };
  if (absl::Status admit = admission_->Admit(metadata); !admit.ok()) {
    finish(std::move(admit));
    return;
  }
  handler_->GradeOne(request, rpc_deadline, std::move(cancellation), response,
                     std::move(finish));
}

grpc::ServerUnaryReactor* RewardServiceImpl::GradeGroup(
    grpc::CallbackServerContext* context, const pb::GradeGroupRequest* request,
    pb::GradeGroupResponse* response) {
  GradeObserver* observer = handler_->observer();
  auto* reactor = new AsyncUnaryReactor(admission_, observer, "GradeGroup");
  if (absl::Status admit = admission_->Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  const size_t n = request->responses_size();
  if (observer != nullptr) observer->OnGroupSize(n);
  if (absl::Status size = CheckGroupSize(n, handler_->options().max_group_size);
      !size.ok()) {
    reactor->Respond(size);
    return reactor;
  }
  absl::StatusOr<std::shared_ptr<GradeInput>> base =
      handler_->ResolveGroup(*request, context, reactor->cancellation());
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
  if (observer != nullptr && observer->WantsGroups()) {
    state->observer = observer;
    state->request = request;
    state->base = *base;
    state->set_version = SetVersionOf(store_, (*base)->rubric_set);
    state->results.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    handler_->GradeResolved(
        std::make_shared<GradeInput>(**base), request->responses(i),
        request->options(), request->labels(),
        absl::StrCat(request->request_id(), "/", i),
        response->mutable_results(i),
        [state, i](absl::Status status) { state->Answered(i, status); },
        state->observer != nullptr ? &state->results[i] : nullptr);
  }
  return reactor;
}

grpc::ServerBidiReactor<pb::GradeRequest, pb::GradeResponse>*
RewardServiceImpl::GradeStream(grpc::CallbackServerContext* context) {
  return new GradeStreamReactor(admission_, handler_.get(), context);
}

grpc::ServerUnaryReactor* RewardServiceImpl::ListRubricSets(
    grpc::CallbackServerContext* context, const pb::ListRubricSetsRequest*,
    pb::ListRubricSetsResponse* response) {
  auto* reactor =
      new AsyncUnaryReactor(admission_, handler_->observer(), "ListRubricSets");
  if (absl::Status admit = admission_->Admit(context); !admit.ok()) {
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
  auto* reactor =
      new AsyncUnaryReactor(admission_, handler_->observer(), "GetRubric");
  if (absl::Status admit = admission_->Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  std::shared_ptr<const StoreSnapshot> snapshot = store_->snapshot();
  const RubricSet* set = snapshot->Find(request->rubric_set());
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
  if ((*rubric)->lineage != nullptr) {
    for (const RubricVersionInfo& v : *(*rubric)->lineage) {
      RubricVersionInfoToProto(v, response->add_lineage());
    }
  }
  reactor->Respond(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RewardServiceImpl::ListSaturatedRubrics(
    grpc::CallbackServerContext* context,
    const pb::ListSaturatedRubricsRequest* request,
    pb::ListSaturatedRubricsResponse* response) {
  auto* reactor = new AsyncUnaryReactor(admission_, handler_->observer(),
                                        "ListSaturatedRubrics");
  if (absl::Status admit = admission_->Admit(context); !admit.ok()) {
    reactor->Respond(admit);
    return reactor;
  }
  constexpr uint32_t kDefaultLimit = 20, kMaxLimit = 1000;
  const uint32_t limit = request->limit() == 0
                             ? kDefaultLimit
                             : std::min(request->limit(), kMaxLimit);
  if (saturation_ != nullptr) {
    for (const SaturatedRubric& r :
         saturation_->Top(limit, request->rubric_set())) {
      SaturatedRubricToProto(r, response->add_rubrics());
    }
  }
  reactor->Respond(absl::OkStatus());
  return reactor;
}

}  // namespace rewardd
