#include "server/gateway/proto_json.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "server/gateway/proto_json_reader.h"
#include "server/gateway/proto_json_writer.h"

namespace rewardd {

absl::Status ParseProtoJson(std::string_view json,
                            google::protobuf::Message* message) {
  if (ProtoJsonReader::TryRead(json, message)) return absl::OkStatus();
  // Not in the reader's subset (or not valid): protobuf's parser decides,
  // and words the error.
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  google::protobuf::util::Status status =
      google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), message,
          options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("request body (", message->GetDescriptor()->full_name(),
                   " as JSON): ", status.message().as_string()));
}

std::string PrintProtoJson(const google::protobuf::Message& message) {
  if (ProtoJsonWriter::CanWrite(*message.GetDescriptor())) {
    std::string out;
    ProtoJsonWriter::Append(message, &out);
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a valid message cannot fail (no Any fields in reward.v1).
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace rewardd
