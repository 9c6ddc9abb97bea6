// A hook for whoever watches graded responses and finished RPCs (metrics,
// drift detection). It speaks domain types only (GradeResult, absl status
// codes), so its implementations need neither protobuf nor gRPC. The service
// calls it on the thread that finished the work; implementations must be
// cheap and must not block.
//
//   class MyObserver : public GradeObserver { ... };
//   // In the service, once a response is graded:
//   GradedRequest request;
//   request.request_id = id;
//   request.labels = labels;  // a span of GradeLabel
//   request.total_time = absl::Now() - received;
//   observer->OnGraded(result, request);
//   // Once per GradeGroup call, after its last response:
//   observer->OnGroupGraded(group);  // a GradedGroup
//
// Thread-safety: implementations must be safe to call from any thread.
#ifndef REWARDD_SERVER_GRADING_GRADE_OBSERVER_H_
#define REWARDD_SERVER_GRADING_GRADE_OBSERVER_H_

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/grading/grader.h"

namespace rewardd {

// One request label, e.g. {"policy_version", "ckpt-1200"}.
using GradeLabel = std::pair<absl::string_view, absl::string_view>;

// What only the service knows about a graded response. Views into the
// request; valid for the duration of the OnGraded() call.
struct GradedRequest {
  absl::string_view request_id;
  absl::Span<const GradeLabel> labels;  // the request's labels
  // From the request's arrival to its graded answer.
  absl::Duration total_time = absl::ZeroDuration();
};

// One finished GradeGroup call whose every response was graded: views into
// the call's state, valid for the duration of the OnGroupGraded() call.
struct GradedGroup {
  // The resolved base of the group (rubric, rubric set, prompt, messages).
  const GradeInput* base = nullptr;
  absl::string_view set_version;  // "" for inline rubrics
  absl::Span<const GradeLabel> labels;
  // The highest reward the scoring formula can give (1 for the normalized
  // formulas, the sum of positive weights for raw_sum).
  double max_possible = 1.0;
  // One per response, in request order; each result's input->response is
  // the response text.
  absl::Span<const GradeResult> results;
};

class GradeObserver {
 public:
  virtual ~GradeObserver() = default;
  // One graded response (valid or not). `result.input` has the rubric
  // (criterion tags), rubric set and response text; `result.verdicts` are
  // parallel to the rubric's criteria.
  virtual void OnGraded(const GradeResult& result,
                        const GradedRequest& request) = 0;
  // One finished RPC ("Grade", "GradeGroup", ...) with the status code it
  // ended with.
  virtual void OnRpcDone(absl::string_view method, absl::StatusCode code,
                         absl::Duration latency) = 0;
  // GradeGroup sizes and GradeStream items, counted as they arrive.
  virtual void OnGroupSize(size_t responses) = 0;
  virtual void OnStreamItem() = 0;
  // Whether OnGroupGraded() wants to be called: the service keeps each
  // group's results until its last response only for observers that do.
  virtual bool WantsGroups() const { return false; }
  // One GradeGroup call whose responses were all graded (not called when
  // the call failed as a whole). Called once per group, before its answer
  // is sent; must be cheap (O(group size)) and must not block.
  virtual void OnGroupGraded(const GradedGroup& group) { (void)group; }
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GRADING_GRADE_OBSERVER_H_
