// ProtoJsonWriter: prints a proto3 message as JSON the way the gateway
// answers (proto field names, every field printed), by walking the
// message with protobuf reflection.
//
// Why not protobuf's MessageToJsonString: in protobuf 3.21 it goes through
// the generic converter framework (a type resolver, an object-writer tree
// that fills in default values, snprintf for every double), and printing a
// 20-criterion GradeResponse that way cost several times what rewardd spent
// grading it (bench scenario 8b). This writer prints the same JSON values
// (tests/unit/proto_json_writer_test.cc compares the two on every reward.v1
// response shape) for messages without well-known types; for any other
// message CanWrite() is false and the caller uses protobuf's printer.
//
// What it prints, as protobuf does with preserve_proto_field_names and
// always_print_primitive_fields: scalars always (default values too) except
// proto3 `optional` ones that are not set; repeated fields as arrays (empty
// ones too); maps as objects (keys as strings); message fields only when
// set; enums by name (by number when the value has no name); 64-bit
// integers as strings; doubles and floats as their shortest round-trip
// decimal ("NaN", "Infinity", "-Infinity" as strings); bytes as base64.
//
//   std::string out;
//   if (ProtoJsonWriter::CanWrite(*response.GetDescriptor())) {
//     ProtoJsonWriter::Append(response, &out);
//   }
//
// Thread-safety: pure functions; CanWrite() caches its answer per
// descriptor in each thread (no lock shared between threads).
#ifndef REWARDD_SERVER_GATEWAY_PROTO_JSON_WRITER_H_
#define REWARDD_SERVER_GATEWAY_PROTO_JSON_WRITER_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>

namespace rewardd {

class ProtoJsonWriter {
 public:
  // Whether Append() prints messages of this type (and of every type they
  // contain): false when any is a google.protobuf well-known type, whose
  // JSON forms (Any, Struct, Timestamp, wrappers...) are special.
  static bool CanWrite(const google::protobuf::Descriptor& descriptor);

  // Appends `message` as one JSON object to *out. Requires
  // CanWrite(*message.GetDescriptor()).
  static void Append(const google::protobuf::Message& message,
                     std::string* out);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_PROTO_JSON_WRITER_H_
