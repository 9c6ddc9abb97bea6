// The gRPC RewardService (protos/reward/v1/reward.proto) on the callback API.
// Handlers only: each RPC is admitted (admission.h), its request resolved
// and graded (grade_handler.h; GradeStream in grade_stream_reactor.h), and
// answered when the judges have. Errors become gRPC codes in one place,
// wire_status.h, which has the table.
//
//   Admission admission(AdmissionOptions{});
//   RewardServiceImpl service(&store, &grader, ServiceOptions{}, &admission);
//   builder.RegisterService(&service);
//
// No reaction blocks: handlers do bounded CPU work (look-ups, validation)
// and return; the grading engine calls back when judges answer.
//
// Thread-safety: all methods are called by gRPC from any thread; the store,
// grader and admission are thread-safe, and per-RPC state lives in its
// reactor.
#ifndef REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_
#define REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_

#include <map>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "reward/v1/reward.grpc.pb.h"
#include "server/grading/grade_observer.h"
#include "server/grading/grader.h"
#include "server/grading/saturation_tracker.h"
#include "server/rubric/rubric_store.h"
#include "server/service/admission.h"
#include "server/service/service_options.h"

namespace rewardd {

class GradeHandler;

class RewardServiceImpl final
    : public reward::v1::RewardService::CallbackService {
 public:
  // `store`, `grader`, `admission` and `observer` (may be null) must
  // outlive the service.
  RewardServiceImpl(const RubricStore* store, const Grader* grader,
                    ServiceOptions options, Admission* admission,
                    GradeObserver* observer = nullptr);
  ~RewardServiceImpl() override;

  grpc::ServerUnaryReactor* Grade(grpc::CallbackServerContext* context,
                                  const reward::v1::GradeRequest* request,
                                  reward::v1::GradeResponse* response) override;
  grpc::ServerUnaryReactor* GradeGroup(
      grpc::CallbackServerContext* context,
      const reward::v1::GradeGroupRequest* request,
      reward::v1::GradeGroupResponse* response) override;
  grpc::ServerBidiReactor<reward::v1::GradeRequest, reward::v1::GradeResponse>*
  GradeStream(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListRubricSets(
      grpc::CallbackServerContext* context,
      const reward::v1::ListRubricSetsRequest* request,
      reward::v1::ListRubricSetsResponse* response) override;
  grpc::ServerUnaryReactor* GetRubric(
      grpc::CallbackServerContext* context,
      const reward::v1::GetRubricRequest* request,
      reward::v1::GetRubricResponse* response) override;
  grpc::ServerUnaryReactor* ListSaturatedRubrics(
      grpc::CallbackServerContext* context,
      const reward::v1::ListSaturatedRubricsRequest* request,
      reward::v1::ListSaturatedRubricsResponse* response) override;

  // The Grade RPC without gRPC, for the HTTP gateway inside rewardd
  // (server/main/in_process_grade.h): the same admission (drain, the token
  // in `metadata`, the in-flight limit), grading, metrics and status mapping
  // as Grade(). `done` runs exactly once with the status a gRPC client
  // would see (after ToWireStatus: same code and message); `request`,
  // `response` and `cancellation` must stay alive until then.
  // `rpc_deadline` (absl::InfiniteFuture() for none) and `cancellation`
  // stand for the RPC's deadline and cancellation.
  void GradeInProcess(
      const reward::v1::GradeRequest& request,
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
      absl::Time rpc_deadline, std::shared_ptr<const Cancellation> cancellation,
      reward::v1::GradeResponse* response,
      absl::AnyInvocable<void(absl::Status) &&> done);

  // The source of ListSaturatedRubrics (may stay null: the RPC then answers
  // an empty list). Set before the server starts; must outlive the service.
  void SetSaturationTracker(const SaturationTracker* tracker) {
    saturation_ = tracker;
  }

 private:
  const RubricStore* const store_;
  Admission* const admission_;
  const std::unique_ptr<const GradeHandler> handler_;
  const SaturationTracker* saturation_ = nullptr;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_
