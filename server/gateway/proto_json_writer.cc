#include "server/gateway/proto_json_writer.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/util/json_escape.h"

namespace rewardd {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsWellKnownType(const Descriptor& d) {
  return d.file()->package() == "google.protobuf";
}

bool CanWriteUncached(const Descriptor& d,
                      std::vector<const Descriptor*>* seen) {
  if (IsWellKnownType(d)) return false;
  for (const Descriptor* s : *seen) {
    if (s == &d) return true;  // recursive type: already being checked
  }
  seen->push_back(&d);
  for (int i = 0; i < d.field_count(); ++i) {
    const Descriptor* m = d.field(i)->message_type();
    if (m != nullptr && !CanWriteUncached(*m, seen)) return false;
  }
  return true;
}

template <typename Float>
void AppendFloat(Float v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, r.ptr);
  }
}

void AppendEnum(const FieldDescriptor& f, int number, std::string* out) {
  if (const auto* value = f.enum_type()->FindValueByNumber(number)) {
    AppendJsonString(value->name(), out);
  } else {
    absl::StrAppend(out, number);
  }
}

// One value of field `f` (element `index` when f is repeated, else -1).
void AppendValue(const Message& m, const FieldDescriptor& f, int index,
                 std::string* out);

// A map entry's key, always as a JSON string.
void AppendMapKey(const Message& entry, std::string* out) {
  const FieldDescriptor& key = *entry.GetDescriptor()->map_key();
  if (key.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    AppendValue(entry, key, -1, out);
    return;
  }
  std::string text;
  AppendValue(entry, key, -1, &text);
  AppendJsonString(text, out);
}

void AppendField(const Message& m, const FieldDescriptor& f, std::string* out) {
  const Reflection& r = *m.GetReflection();
  AppendJsonString(f.name(), out);
  out->push_back(':');
  if (f.is_map()) {
    out->push_back('{');
    for (int i = 0, n = r.FieldSize(m, &f); i < n; ++i) {
      if (i > 0) out->push_back(',');
      const Message& entry = r.GetRepeatedMessage(m, &f, i);
      AppendMapKey(entry, out);
      out->push_back(':');
      AppendValue(entry, *entry.GetDescriptor()->map_value(), -1, out);
    }
    out->push_back('}');
  } else if (f.is_repeated()) {
    out->push_back('[');
    for (int i = 0, n = r.FieldSize(m, &f); i < n; ++i) {
      if (i > 0) out->push_back(',');
      AppendValue(m, f, i, out);
    }
    out->push_back(']');
  } else {
    AppendValue(m, f, -1, out);
  }
}

void AppendMessage(const Message& m, std::string* out) {
  const Descriptor& d = *m.GetDescriptor();
  const Reflection& r = *m.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor& f = *d.field(i);
    if (!f.is_repeated() && f.has_presence() && !r.HasField(m, &f)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendField(m, f, out);
  }
  out->push_back('}');
}

void AppendValue(const Message& m, const FieldDescriptor& f, int index,
                 std::string* out) {
  const Reflection& r = *m.GetReflection();
  const bool rep = index >= 0;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(
          out, rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          out, "\"", rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f),
          "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(
          out, "\"",
          rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f), "\"");
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendFloat(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f),
                  out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f))
                      ? "true"
                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      AppendEnum(
          f, rep ? r.GetRepeatedEnumValue(m, &f, index) : r.GetEnumValue(m, &f),
          out);
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          rep ? r.GetRepeatedStringReference(m, &f, index, &scratch)
              : r.GetStringReference(m, &f, &scratch);
      if (f.type() == FieldDescriptor::TYPE_BYTES) {
        AppendJsonString(absl::Base64Escape(s), out);
      } else {
        AppendJsonString(s, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(
          rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f), out);
      break;
  }
}

}  // namespace

bool ProtoJsonWriter::CanWrite(const Descriptor& descriptor) {
  // Asked once per response on every gateway thread. The answer never
  // changes and is cheap to find, so each thread keeps its own: no shared
  // lock (or cache line) on the per-request path.
  thread_local absl::flat_hash_map<const Descriptor*, bool> cache;
  auto [it, inserted] = cache.try_emplace(&descriptor, false);
  if (inserted) {
    std::vector<const Descriptor*> seen;
    it->second = CanWriteUncached(descriptor, &seen);
  }
  return it->second;
}

void ProtoJsonWriter::Append(const Message& message, std::string* out) {
  AppendMessage(message, out);
}

}  // namespace rewardd
