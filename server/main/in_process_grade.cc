#include "server/main/in_process_grade.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

// One call, shared with the service's callback: the callback may run after
// Grade() has returned on the deadline, so it owns what it writes to.
struct Call {
  pb::GradeRequest request;
  pb::GradeResponse response;
  std::shared_ptr<Cancellation> cancellation = std::make_shared<Cancellation>();
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::Status status ABSL_GUARDED_BY(mu);
};

}  // namespace

absl::Status InProcessGrade::Grade(pb::GradeRequest request,
                                   const std::string* authorization,
                                   absl::Time deadline,
                                   pb::GradeResponse* response) {
  // gRPC's message size limit on the channel, word for word.
  const size_t bytes = request.ByteSizeLong();
  if (static_cast<int64_t>(bytes) > max_message_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Sent message larger than max (", bytes, " vs. ",
                     max_message_bytes_, ")"));
  }
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  if (authorization != nullptr)
    metadata.emplace("authorization", *authorization);
  {
    absl::MutexLock lock(&mu_);
    in_flight_.insert(call->cancellation.get());
  }
  service_->GradeInProcess(call->request, metadata, deadline,
                           call->cancellation, &call->response,
                           [call](absl::Status status) {
                             absl::MutexLock lock(&call->mu);
                             call->status = std::move(status);
                             call->done = true;
                           });
  bool answered;
  absl::Status status;
  {
    absl::MutexLock lock(&call->mu);
    answered =
        call->mu.AwaitWithDeadline(absl::Condition(&call->done), deadline);
    status = call->status;
  }
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(call->cancellation.get());
  }
  if (!answered) {
    // What gRPC does when an RPC's deadline passes: the handler's work is
    // cancelled and the client gets DEADLINE_EXCEEDED at once.
    call->cancellation->Cancel();
    return absl::DeadlineExceededError("Deadline Exceeded");
  }
  if (status.ok()) response->Swap(&call->response);
  return status;
}

void InProcessGrade::CancelAll() {
  absl::MutexLock lock(&mu_);
  for (Cancellation* c : in_flight_) c->Cancel();
}

}  // namespace rewardd
