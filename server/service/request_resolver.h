// Turns the rubric, prompt and options of a request into the GradeInput the
// grader works on, or a domain error naming the field that is wrong. Pure
// request logic: no gRPC server, no clock, no I/O; it reads the rubric store
// (one snapshot, only when the request names a rubric set), validates inline
// rubrics through a cache, and checks the judge name against the registry.
//
//   RequestResolver resolver(&store, &judges, ResolveLimits{}, 4096);
//   absl::StatusOr<std::shared_ptr<GradeInput>> input =
//       resolver.Resolve(request);           // GradeRequest or group
//   REWARDD_RETURN_IF_ERROR(
//       RequestResolver::CheckResponse(request.response(), limits));
//
// Errors (wire codes: wire_status.h): INVALID_ARGUMENT for a bad field
// (prompt and messages both set, an empty message role, over a limit, a bad
// inline rubric, both an inline rubric and a set, no rubric at all, an
// unknown options.judge); NOT_FOUND when the named set or rubric is not
// loaded or no rubric of the set was written for the prompt.
//
// The caller sets what depends on the call: received, deadline and
// cancellation of the returned input, and its response.
//
// Thread-safety: Resolve() may be called from any thread at once; the store,
// the registry and the inline rubric cache are thread-safe.
#ifndef REWARDD_SERVER_SERVICE_REQUEST_RESOLVER_H_
#define REWARDD_SERVER_SERVICE_REQUEST_RESOLVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "reward/v1/reward.pb.h"
#include "server/judge/judge.h"
#include "server/judge/judge_registry.h"
#include "server/rubric/rubric_store.h"
#include "server/service/inline_rubric_cache.h"

namespace rewardd {

// The request-size limits the resolver enforces (flags of the same names).
struct ResolveLimits {
  // Largest prompt (text or all messages' contents), in bytes.
  size_t max_prompt_bytes = 1 << 20;
  // Most criteria an inline rubric may have.
  size_t max_criteria_per_rubric = 256;
  // Largest response text, in bytes (CheckResponse).
  size_t max_response_bytes = 1 << 20;
};

class RequestResolver {
 public:
  // `store` and `judges` must outlive the resolver. `inline_cache_size`
  // distinct inline rubrics are kept validated (0 = validate every time).
  RequestResolver(const RubricStore* store, const JudgeRegistry* judges,
                  ResolveLimits limits, size_t inline_cache_size);

  // The base every response of the request is graded against: rubric,
  // prompt (canonical text and chat form) and grading options. `response`
  // is left empty.
  absl::StatusOr<std::shared_ptr<GradeInput>> Resolve(
      const reward::v1::GradeRequest& request) const;
  absl::StatusOr<std::shared_ptr<GradeInput>> Resolve(
      const reward::v1::GradeGroupRequest& request) const;

  // INVALID_ARGUMENT when `response` is over limits.max_response_bytes.
  static absl::Status CheckResponse(absl::string_view response,
                                    const ResolveLimits& limits);

  const ResolveLimits& limits() const { return limits_; }

 private:
  template <typename Req>
  absl::StatusOr<std::shared_ptr<GradeInput>> ResolveAny(
      const Req& request) const;
  absl::Status ResolvePrompt(
      const google::protobuf::RepeatedPtrField<reward::v1::Message>& messages,
      const std::string& prompt, GradeInput* input) const;
  absl::Status ResolveInlineRubric(const reward::v1::Rubric& rubric,
                                   GradeInput* input) const;
  absl::Status ResolveStoredRubric(const std::string& set_name,
                                   const std::string& rubric_id,
                                   GradeInput* input) const;

  const RubricStore* store_;
  const JudgeRegistry* judges_;
  const ResolveLimits limits_;
  mutable InlineRubricCache inline_rubrics_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_REQUEST_RESOLVER_H_
