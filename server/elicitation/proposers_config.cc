#include "server/elicitation/proposers_config.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/elicitation/http_proposer.h"

namespace rewardd {

absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> BuildProposers(
    const nlohmann::json& doc, const std::string& base_dir,
    std::shared_ptr<CurlMultiLoop> loop, JudgeMetricFamilies* metrics) {
  std::vector<std::shared_ptr<Proposer>> proposers;
  if (!doc.is_object() || !doc.contains("proposers")) return proposers;
  const nlohmann::json& list = doc["proposers"];
  if (!list.is_array()) {
    return absl::InvalidArgumentError(
        "judges config: \"proposers\" must be a list");
  }
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    auto fail = [i](const absl::Status& s) {
      return absl::Status(s.code(), absl::StrCat("judges config: proposers[", i,
                                                 "]: ", s.message()));
    };
    absl::StatusOr<HttpProposerConfig> config =
        ParseHttpProposerConfig(list[i], base_dir);
    if (!config.ok()) return fail(config.status());
    if (!names.insert(config->http.name).second) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("two proposers are named '", config->http.name, "'")));
    }
    absl::StatusOr<std::shared_ptr<HttpProposer>> proposer =
        HttpProposer::Create(*std::move(config), loop, metrics);
    if (!proposer.ok()) return fail(proposer.status());
    proposers.push_back(*std::move(proposer));
  }
  return proposers;
}

}  // namespace rewardd
