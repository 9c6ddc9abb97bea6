// slime's remote reward model protocol (--rm-type remote_rm --rm-url URL):
// the request body
//   {"prompt": "text" | [{"role": ..., "content": ...}, ...],
//    "response": "text", "label": <rubric reference, see rubric_label.h>}
// becomes one GradeRequest. The answer (built by the gateway) is the
// GradeResponse in the proto JSON mapping, so the reward is its "reward"
// field: run slime with --reward-key reward.
//
// Thread-safety: a pure function.
#ifndef REWARDD_SERVER_GATEWAY_SLIME_CODEC_H_
#define REWARDD_SERVER_GATEWAY_SLIME_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.pb.h"

namespace rewardd {

absl::StatusOr<reward::v1::GradeRequest> ParseSlimeRequest(
    const nlohmann::json& body, const std::string& default_rubric_set);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_SLIME_CODEC_H_
