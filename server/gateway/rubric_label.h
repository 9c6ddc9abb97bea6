// The rubric reference that OpenRLHF and slime requests carry in their label
// (the dataset's label column), applied to a GradeRequest:
//
//   null, absent or ""      -> the default set; the rubric whose prompt
//                              equals the request's prompt
//   "arith-1"               -> rubric id "arith-1" of the default set
//   {"rubric_set": "demo", "rubric_id": "arith-1"}  (either key optional)
//   "{\"rubric_set\": ...}" -> a string holding a JSON object is read as one
//                              (datasets often store labels as strings)
//
// Anything else (numbers, arrays, other keys in the object) is
// INVALID_ARGUMENT naming the field, as is a reference without a set when
// there is no default set.
//
//   RETURN_IF_ERROR(ApplyRubricLabel(body["label"], "label", "demo", &req));
//
// Thread-safety: a pure function.
#ifndef REWARDD_SERVER_GATEWAY_RUBRIC_LABEL_H_
#define REWARDD_SERVER_GATEWAY_RUBRIC_LABEL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.pb.h"

namespace rewardd {

// Sets request->rubric_set / rubric_id from `label`. `field` names the label
// in error messages, e.g. "labels[3]".
absl::Status ApplyRubricLabel(const nlohmann::json& label,
                              absl::string_view field,
                              const std::string& default_set,
                              reward::v1::GradeRequest* request);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_RUBRIC_LABEL_H_
