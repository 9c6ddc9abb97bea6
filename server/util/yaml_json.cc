#include "server/util/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rewardd {
namespace {

// Core-schema tags (YAML 1.2, section 10.3) as yaml-cpp reports them.
constexpr absl::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr absl::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr absl::string_view kFloatTag = "tag:yaml.org,2002:float";
constexpr absl::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr absl::string_view kNullTag = "tag:yaml.org,2002:null";
constexpr absl::string_view kMapTag = "tag:yaml.org,2002:map";
constexpr absl::string_view kSeqTag = "tag:yaml.org,2002:seq";

// Aliases may point at an enclosing node (`&a [*a]` is a cycle in
// yaml-cpp's graph) or fan out exponentially ("billion laughs"); these
// bounds turn both into errors instead of a stack overflow or OOM. Real
// config files are far below them.
constexpr int kMaxDepth = 256;
constexpr int64_t kMaxNodes = 1 << 20;

std::string Where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return absl::StrCat("line ", mark.line + 1, ", column ", mark.column + 1,
                      ": ");
}

absl::Status ErrorAt(const YAML::Mark& mark, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(Where(mark), message));
}

bool AllOf(absl::string_view s, bool (*pred)(unsigned char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsOctal(unsigned char c) { return c >= '0' && c <= '7'; }

bool IsNull(absl::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Sets *b when `s` is a core-schema bool.
bool ParseBool(absl::string_view s, bool* b) {
  if (s == "true" || s == "True" || s == "TRUE") {
    *b = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    *b = false;
    return true;
  }
  return false;
}

enum class IntParse { kNotInt, kOk, kOutOfRange };

// [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
IntParse ParseInt(absl::string_view s, nlohmann::json* out) {
  int base = 10;
  bool negative = false;
  absl::string_view digits = s;
  if (absl::StartsWith(s, "0x")) {
    base = 16;
    digits.remove_prefix(2);
    if (!AllOf(digits, absl::ascii_isxdigit)) return IntParse::kNotInt;
  } else if (absl::StartsWith(s, "0o")) {
    base = 8;
    digits.remove_prefix(2);
    if (!AllOf(digits, IsOctal)) return IntParse::kNotInt;
  } else {
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (!AllOf(digits, absl::ascii_isdigit)) return IntParse::kNotInt;
  }
  uint64_t magnitude = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, magnitude, base);
  if (ec != std::errc() || ptr != end) return IntParse::kOutOfRange;
  if (!negative) {
    // Unsigned, as nlohmann's JSON parser stores every non-negative integer:
    // the same file in either syntax reads the same.
    *out = magnitude;
    return IntParse::kOk;
  }
  constexpr uint64_t kMinMagnitude =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  if (magnitude > kMinMagnitude) return IntParse::kOutOfRange;
  *out = magnitude == kMinMagnitude ? std::numeric_limits<int64_t>::min()
                                    : -static_cast<int64_t>(magnitude);
  return IntParse::kOk;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.inf | \.nan
// (each of inf/nan also Capitalized or UPPER).
bool ParseFloat(absl::string_view s, double* d) {
  absl::string_view rest = s;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") {
    *d = negative ? -std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *d = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < rest.size() && absl::ascii_isdigit(rest[i])) ++i;
    return i - start;
  };
  const size_t int_digits = digits();
  size_t frac_digits = 0;
  if (i < rest.size() && rest[i] == '.') {
    ++i;
    frac_digits = digits();
  }
  // "5." is a float; "." and ".e3" are not.
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < rest.size() && (rest[i] == 'e' || rest[i] == 'E')) {
    ++i;
    if (i < rest.size() && (rest[i] == '-' || rest[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  if (i != rest.size()) return false;
  // Overflow ("1e400") is left to the caller: SimpleAtod gives +-inf.
  return absl::SimpleAtod(s, d);
}

class Converter {
 public:
  absl::StatusOr<nlohmann::json> Convert(const YAML::Node& node, int depth) {
    if (depth > kMaxDepth) {
      return ErrorAt(node.Mark(),
                     absl::StrCat("nested deeper than ", kMaxDepth,
                                  " levels (an alias to an enclosing node?)"));
    }
    if (++nodes_ > kMaxNodes) {
      return ErrorAt(node.Mark(),
                     absl::StrCat("more than ", kMaxNodes,
                                  " values after expanding aliases"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        if (!CollectionTagOk(node.Tag(), kSeqTag)) return BadTag(node);
        nlohmann::json out = nlohmann::json::array();
        for (const YAML::Node& item : node) {
          absl::StatusOr<nlohmann::json> v = Convert(item, depth + 1);
          if (!v.ok()) return v.status();
          out.push_back(*std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        if (!CollectionTagOk(node.Tag(), kMapTag)) return BadTag(node);
        nlohmann::json out = nlohmann::json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          // Copies (Nodes are handles): `it->first` lives in a proxy that
          // dies with the expression, so a reference to it dangles (ASan:
          // stack-use-after-scope).
          const YAML::Node key = it->first;
          const YAML::Node value = it->second;
          if (!key.IsScalar()) {
            return ErrorAt(key.Mark(), "a mapping key must be a scalar");
          }
          const std::string& name = key.Scalar();
          if (out.contains(name)) {
            return ErrorAt(key.Mark(),
                           absl::StrCat("duplicate key \"", name, "\""));
          }
          absl::StatusOr<nlohmann::json> v = Convert(value, depth + 1);
          if (!v.ok()) return v.status();
          out[name] = *std::move(v);
        }
        return out;
      }
      case YAML::NodeType::Undefined:
        break;
    }
    return ErrorAt(node.Mark(), "undefined YAML node");
  }

 private:
  static bool CollectionTagOk(const std::string& tag, absl::string_view core) {
    return tag.empty() || tag == "?" || tag == "!" || tag == core;
  }

  static absl::Status BadTag(const YAML::Node& node) {
    return ErrorAt(node.Mark(),
                   absl::StrCat("unsupported tag ", node.Tag(),
                                " (only the core schema's !!str, !!int, "
                                "!!float, !!bool, !!null, !!seq, !!map)"));
  }

  static absl::StatusOr<nlohmann::json> Scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& s = node.Scalar();
    // yaml-cpp tags an untagged quoted or block scalar "!" and an untagged
    // plain one "?": only the latter is typed by its spelling.
    if (tag == "!" || tag == kStrTag) return nlohmann::json(s);
    const bool plain = tag.empty() || tag == "?";
    if (!plain && tag != kNullTag && tag != kBoolTag && tag != kIntTag &&
        tag != kFloatTag) {
      return BadTag(node);
    }
    if ((plain || tag == kNullTag) && IsNull(s)) return nlohmann::json(nullptr);
    if (bool b; (plain || tag == kBoolTag) && ParseBool(s, &b)) {
      return nlohmann::json(b);
    }
    if (plain || tag == kIntTag) {
      nlohmann::json i;
      switch (ParseInt(s, &i)) {
        case IntParse::kOk:
          return i;
        case IntParse::kOutOfRange:
          return ErrorAt(node.Mark(),
                         absl::StrCat("integer ", s,
                                      " does not fit in 64 bits (quote it "
                                      "to keep it a string)"));
        case IntParse::kNotInt:
          break;
      }
    }
    if (double d; (plain || tag == kFloatTag) && ParseFloat(s, &d)) {
      // Only the .inf literals (the one spelling with an i) may be infinite.
      if (std::isinf(d) && s.find_first_of("iI") == std::string::npos) {
        return ErrorAt(node.Mark(),
                       absl::StrCat("number ", s, " is out of range"));
      }
      return nlohmann::json(d);
    }
    if (plain) return nlohmann::json(s);
    return ErrorAt(node.Mark(), absl::StrCat("\"", s, "\" is not a valid ",
                                             tag.substr(tag.rfind(':') + 1)));
  }

  int64_t nodes_ = 0;
};

}  // namespace

absl::StatusOr<nlohmann::json> YamlNodeToJson(const YAML::Node& node) {
  Converter converter;
  return converter.Convert(node, 0);
}

absl::StatusOr<nlohmann::json> YamlToJson(absl::string_view text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark, e.msg);
  }
  if (docs.empty()) return nlohmann::json(nullptr);
  if (docs.size() > 1) {
    return ErrorAt(docs[1].Mark(),
                   "a second YAML document: expected exactly one");
  }
  try {
    return YamlNodeToJson(docs[0]);
  } catch (const YAML::Exception& e) {
    // Iterating a node does not throw in practice; stay exception-free.
    return ErrorAt(e.mark, e.msg);
  }
}

}  // namespace rewardd
