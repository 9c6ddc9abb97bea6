// The proto3 JSON mapping as the gateway speaks it: requests may use either
// the proto field names (rubric_set) or their lowerCamelCase JSON names
// (rubricSet); unknown fields and malformed JSON are INVALID_ARGUMENT with
// protobuf's message (which names the field, or shows where the text
// breaks). Requests are read by ProtoJsonReader when they are in its subset
// (the common shapes) and by protobuf's parser otherwise, so acceptance and
// errors are protobuf's. Responses use the proto field names and print every field,
// so `"valid": false` and `"reward": 0` are never left out (printed by
// ProtoJsonWriter, which gives protobuf's JSON values much faster).
//
//   reward::v1::GradeRequest request;
//   RETURN_IF_ERROR(ParseProtoJson(body, &request));
//   std::string out = PrintProtoJson(response);
//
// Thread-safety: pure functions.
#ifndef REWARDD_SERVER_GATEWAY_PROTO_JSON_H_
#define REWARDD_SERVER_GATEWAY_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace rewardd {

absl::Status ParseProtoJson(std::string_view json,
                            google::protobuf::Message* message);

std::string PrintProtoJson(const google::protobuf::Message& message);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_PROTO_JSON_H_
