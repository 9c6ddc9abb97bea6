// ProtoJsonReader: reads the common shapes of a proto3 JSON request (the
// gateway's GradeRequest and GradeGroupRequest bodies) into a message with
// simdjson and protobuf reflection, and declines everything else so that
// the caller hands it to protobuf's own parser.
//
// Why: protobuf 3.21's JsonStringToMessage goes through its generic
// converter framework (a type resolver, a stream object writer, a binary
// re-encoding and a final binary parse), which cost the gateway more CPU per
// /v1/grade call than rewardd spent grading it (bench scenario 8b).
//
// Same acceptance and errors by construction: TryRead() only accepts input
// that protobuf's parser accepts with the same result, and returns false
// (leaving the message in an unspecified state, to be cleared) on anything
// it is not sure of: malformed JSON, unknown field names, a field given
// twice, null, enums by number or unknown name, numbers out of range or not
// in the field's plain form (1.0 for an integer, strings for numbers,
// "NaN"), 64-bit integers and bytes (their JSON forms are strings),
// well-known types (Any, Struct, Timestamp...), oneof conflicts, deep
// nesting and large bodies. The caller then runs protobuf's parser, whose
// verdict and error message are the answer.
// tests/unit/proto_json_reader_test.cc compares the two on every request
// shape and on bad inputs.
//
//   request.Clear();
//   if (!ProtoJsonReader::TryRead(body, &request)) {
//     request.Clear();
//     ... protobuf's JsonStringToMessage(body, &request) ...
//   }
//
// Thread-safety: safe to call concurrently; each thread keeps its own
// simdjson parser (its buffers are reused from call to call).
#ifndef REWARDD_SERVER_GATEWAY_PROTO_JSON_READER_H_
#define REWARDD_SERVER_GATEWAY_PROTO_JSON_READER_H_

#include <google/protobuf/message.h>

#include <cstddef>
#include <string_view>

namespace rewardd {

class ProtoJsonReader {
 public:
  // Bodies above this go to protobuf's parser: a thread's simdjson buffers
  // grow to the largest document it parsed, and the gateway has many
  // threads.
  static constexpr size_t kMaxBytes = 1 << 20;

  // Fills `message` (which must be empty) from `json` and returns true, or
  // returns false when the input is not in the subset described above.
  static bool TryRead(std::string_view json,
                      google::protobuf::Message* message);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_PROTO_JSON_READER_H_
