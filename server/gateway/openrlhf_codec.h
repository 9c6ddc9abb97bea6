// OpenRLHF's remote reward model protocol (--reward.remote_url, older
// --remote_rm_url): the request body
//   {"query": [q0, ...], "prompts": [p0, ...], "labels": [l0, ...]}
// becomes one GradeRequest per sample, and the valid results become
//   {"rewards": [...], "scores": [...], "extra_logs": {...}}.
//
// The response is cut out of the query: OpenRLHF's query is the
// chat-templated prompt followed by the generated text, and prompts[i] is
// that templated prompt, so query[i] must start with prompts[i] byte for byte
// and the response is everything after it. A query that does not start with
// its prompt is INVALID_ARGUMENT naming the sample and the first differing
// byte: the gateway never guesses where a response begins. labels[i] holds
// the rubric reference (see rubric_label.h); labels may be omitted.
//
// Thread-safety: pure functions.
#ifndef REWARDD_SERVER_GATEWAY_OPENRLHF_CODEC_H_
#define REWARDD_SERVER_GATEWAY_OPENRLHF_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.pb.h"

namespace rewardd {

// One GradeRequest per sample, request_id "<i>", prompt = prompts[i].
absl::StatusOr<std::vector<reward::v1::GradeRequest>> ParseOpenRlhfRequest(
    const nlohmann::json& body, const std::string& default_rubric_set);

// `results` are all valid (the caller answers an error otherwise). rewards
// and scores are both the rubric reward; extra_logs holds, per sample,
// rubric_score / rubric_max_score (the raw weighted sums) and
// criteria_met_fraction.
nlohmann::json OpenRlhfResponse(
    const std::vector<reward::v1::GradeResponse>& results);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_OPENRLHF_CODEC_H_
