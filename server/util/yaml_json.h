// Converts YAML (read with yaml-cpp) to nlohmann::json, so config readers
// written against JSON also accept YAML files.
//
//   absl::StatusOr<nlohmann::json> doc = YamlToJson(file_text);
//   if (!doc.ok()) return doc.status();  // "line 3, column 7: ..."
//   BuildJudges(*doc, ...);
//
// Plain (unquoted) scalars are typed by the YAML 1.2 core schema, the way a
// JSON reader would see the same value written in JSON:
//   null, Null, NULL, ~, empty  -> null
//   true/True/TRUE, false/...   -> bool (not yes/no/on/off: that was 1.1)
//   1500, -3, 0x1F, 0o17        -> integer (an error when it does not fit
//                                  int64/uint64, rather than a rounded float)
//   1.5, 1e3, .inf, -.inf, .nan -> float
//   anything else               -> string
// Quoted scalars ("123", 'true') and block scalars (| and >) are always
// strings. Explicit core tags (!!str, !!int, !!float, !!bool, !!null) force
// the type; other tags are an error. Anchors and aliases are resolved by
// yaml-cpp. Mapping keys must be scalars and may not repeat (JSON readers
// would silently keep one of the two values). YAML 1.1 merge keys (<<) are
// not supported: they come out as a literal "<<" key.
//
// Errors are INVALID_ARGUMENT and start with "line L, column C: " (1-based)
// pointing at the offending text.
//
// Thread-safety: stateless; safe to call from any thread.
#ifndef REWARDD_SERVER_UTIL_YAML_JSON_H_
#define REWARDD_SERVER_UTIL_YAML_JSON_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace YAML {
class Node;
}  // namespace YAML

namespace rewardd {

// Parses `text`, which must hold exactly one YAML document, and converts it.
// An empty document (or one that is only comments) is JSON null.
absl::StatusOr<nlohmann::json> YamlToJson(absl::string_view text);

// Converts an already loaded node (see the rules above).
absl::StatusOr<nlohmann::json> YamlNodeToJson(const YAML::Node& node);

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_YAML_JSON_H_
