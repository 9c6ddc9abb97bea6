// Fuzz target: the judges config reader (server/judge/pool/judges_config.h).
// The file is operator input, but a typo must give an error naming the
// field, never a crash or an uncaught exception at start-up. The input is
// the file's text; it is parsed as LoadJudgesConfig does and handed to
// BuildJudges, and every pool that gets built is shut down again. Each judge
// entry also goes through ParseHttpJudgeConfig and ParseJudgePoolOptions on
// its own, so a bad entry behind a good one is still exercised.
//
// Relative paths (api_key_file, templates_file) resolve against an empty
// temporary directory; OPENAI_API_KEY is set so the example config builds.
//
//   fuzz/corpus/judges_config/   seeds: examples/judges.json and variants
//   scripts/fuzz.sh 60 judges_config
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "nlohmann/json.hpp"
#include "server/judge/pool/judges_config.h"
#include "server/judge/http/http_judge_config.h"

namespace rewardd {
namespace {

const std::string& BaseDir() {
  static const std::string* dir = [] {
    std::string templ =
        (std::filesystem::temp_directory_path() / "rewardd-fuzz-XXXXXX")
            .string();
    FUZZ_CHECK(mkdtemp(templ.data()) != nullptr);
    setenv("OPENAI_API_KEY", "sk-fuzz", /*overwrite=*/0);
    return new std::string(templ);
  }();
  return *dir;
}

}  // namespace
}  // namespace rewardd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  const std::string& base_dir = BaseDir();
  const nlohmann::json doc = nlohmann::json::parse(
      data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;

  if (doc.is_object()) {
    auto judges = doc.find("judges");
    if (judges != doc.end() && judges->is_array()) {
      for (const nlohmann::json& j : *judges) {
        absl::StatusOr<HttpJudgeConfig> c = ParseHttpJudgeConfig(j, base_dir);
        if (c.ok()) {
          FUZZ_CHECK(!c->name.empty());
          FUZZ_CHECK(!c->replicas.empty());
        } else {
          FUZZ_CHECK(!c.status().message().empty());
        }
        if (j.is_object() && j.contains("pool")) {
          ParseJudgePoolOptions(j["pool"]).IgnoreError();
        }
      }
    }
  }

  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> built =
      BuildJudges(doc, base_dir);
  if (built.ok()) {
    FUZZ_CHECK(!built->empty());
    for (const std::shared_ptr<Judge>& j : *built) {
      FUZZ_CHECK(j != nullptr && !j->name().empty());
    }
    ShutdownJudges(*built);
  } else {
    FUZZ_CHECK(!built.status().message().empty());
  }
  return 0;
}
