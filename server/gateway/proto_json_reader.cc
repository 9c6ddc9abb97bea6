#include "server/gateway/proto_json_reader.h"

#include <google/protobuf/descriptor.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/gateway/proto_json_writer.h"

namespace rewardd {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using simdjson::dom::element;
using simdjson::dom::element_type;

// Deeper documents go to protobuf's parser (reward.v1 requests nest a few
// levels; protobuf has its own recursion limit and message).
constexpr int kMaxDepth = 32;
// Doubles are exact integers up to here; beyond, declining avoids any doubt
// about how the two parsers round an integer literal.
constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

// The field a JSON key names: its lowerCamelCase JSON name first, then its
// proto name, as protobuf's parser looks them up.
const FieldDescriptor* FindField(const Descriptor& d, std::string_view key) {
  for (int i = 0; i < d.field_count(); ++i) {
    if (d.field(i)->json_name() == key) return d.field(i);
  }
  for (int i = 0; i < d.field_count(); ++i) {
    if (d.field(i)->name() == key) return d.field(i);
  }
  return nullptr;
}

// A JSON integer literal within [lo, hi].
bool IntegerIn(element v, int64_t lo, int64_t hi, int64_t* out) {
  if (v.type() != element_type::INT64) return false;
  const int64_t x = v.get_int64().value_unsafe();
  if (x < lo || x > hi) return false;
  *out = x;
  return true;
}

bool DoubleOf(element v, double* out) {
  int64_t whole;
  switch (v.type()) {
    case element_type::DOUBLE:
      *out = v.get_double().value_unsafe();
      return true;
    case element_type::INT64:
      if (!IntegerIn(v, -kMaxExactInteger, kMaxExactInteger, &whole)) {
        return false;
      }
      *out = static_cast<double>(whole);
      return true;
    default:
      return false;
  }
}

class Reader {
 public:
  bool ReadMessage(element v, Message* m, int depth);

 private:
  bool ReadField(element v, const FieldDescriptor& f, Message* m, int depth);
  bool ReadMap(element v, const FieldDescriptor& f, Message* m, int depth);
  // One value of a non-map field: sets it, or appends it when `add`.
  bool ReadValue(element v, const FieldDescriptor& f, Message* m, bool add,
                 int depth);
};

bool Reader::ReadMessage(element v, Message* m, int depth) {
  if (v.type() != element_type::OBJECT || depth > kMaxDepth) return false;
  const Descriptor& d = *m->GetDescriptor();
  if (d.field_count() > 64) return false;
  uint64_t seen = 0;
  // A named object: a range-for over value_unsafe() of the temporary
  // simdjson_result would iterate a destroyed object.
  const simdjson::dom::object object = v.get_object().value_unsafe();
  for (simdjson::dom::key_value_pair kv : object) {
    const FieldDescriptor* f = FindField(d, kv.key);
    if (f == nullptr) return false;
    const uint64_t bit = uint64_t{1} << f->index();
    if (seen & bit) return false;
    seen |= bit;
    if (!ReadField(kv.value, *f, m, depth)) return false;
  }
  return true;
}

bool Reader::ReadField(element v, const FieldDescriptor& f, Message* m,
                       int depth) {
  if (f.is_map()) return ReadMap(v, f, m, depth);
  if (!f.is_repeated()) {
    // Two members of one oneof: protobuf's error, not ours to word.
    if (f.real_containing_oneof() != nullptr &&
        m->GetReflection()->HasOneof(*m, f.real_containing_oneof())) {
      return false;
    }
    return ReadValue(v, f, m, /*add=*/false, depth);
  }
  if (v.type() != element_type::ARRAY) return false;
  const simdjson::dom::array array = v.get_array().value_unsafe();
  for (element item : array) {
    if (!ReadValue(item, f, m, /*add=*/true, depth)) return false;
  }
  return true;
}

bool Reader::ReadMap(element v, const FieldDescriptor& f, Message* m,
                     int depth) {
  if (v.type() != element_type::OBJECT) return false;
  const Descriptor& entry = *f.message_type();
  const FieldDescriptor& key = *entry.map_key();
  const FieldDescriptor& value = *entry.map_value();
  if (key.cpp_type() != FieldDescriptor::CPPTYPE_STRING) return false;
  absl::flat_hash_set<std::string_view> keys;
  const Reflection& r = *m->GetReflection();
  const simdjson::dom::object object = v.get_object().value_unsafe();
  for (simdjson::dom::key_value_pair kv : object) {
    if (!keys.insert(kv.key).second) return false;
    Message* e = r.AddMessage(m, &f);
    e->GetReflection()->SetString(e, &key, std::string(kv.key));
    if (!ReadValue(kv.value, value, e, /*add=*/false, depth + 1)) {
      return false;
    }
  }
  return true;
}

bool Reader::ReadValue(element v, const FieldDescriptor& f, Message* m,
                       bool add, int depth) {
  const Reflection& r = *m->GetReflection();
  int64_t i;
  double d;
  std::string_view s;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      if (!IntegerIn(v, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max(), &i)) {
        return false;
      }
      add ? r.AddInt32(m, &f, static_cast<int32_t>(i))
          : r.SetInt32(m, &f, static_cast<int32_t>(i));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      if (!IntegerIn(v, 0, std::numeric_limits<uint32_t>::max(), &i)) {
        return false;
      }
      add ? r.AddUInt32(m, &f, static_cast<uint32_t>(i))
          : r.SetUInt32(m, &f, static_cast<uint32_t>(i));
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!DoubleOf(v, &d)) return false;
      add ? r.AddDouble(m, &f, d) : r.SetDouble(m, &f, d);
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (v.type() != element_type::BOOL) return false;
      add ? r.AddBool(m, &f, v.get_bool().value_unsafe())
          : r.SetBool(m, &f, v.get_bool().value_unsafe());
      return true;
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      const auto* value = f.enum_type()->FindValueByName(std::string(s));
      if (value == nullptr) return false;
      add ? r.AddEnumValue(m, &f, value->number())
          : r.SetEnumValue(m, &f, value->number());
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      // Bytes are base64 in JSON, with protobuf's own decoding rules.
      if (f.type() == FieldDescriptor::TYPE_BYTES) return false;
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      add ? r.AddString(m, &f, std::string(s))
          : r.SetString(m, &f, std::string(s));
      return true;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return ReadMessage(v, add ? r.AddMessage(m, &f) : r.MutableMessage(m, &f),
                         depth + 1);
    default:
      // 64-bit integers (strings in JSON, numbers accepted too) and floats
      // (range checks of their own): protobuf's parser.
      return false;
  }
}

}  // namespace

bool ProtoJsonReader::TryRead(std::string_view json, Message* message) {
  // Well-known types anywhere in the message (Any, Struct, Timestamp...)
  // have JSON forms of their own: the same test as the writer's.
  if (json.size() > kMaxBytes ||
      !ProtoJsonWriter::CanWrite(*message->GetDescriptor())) {
    return false;
  }
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return false;
  }
  return Reader().ReadMessage(root, message, 0);
}

}  // namespace rewardd
