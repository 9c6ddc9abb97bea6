// The "proposers" section of the judges config (--judges_config, JSON or
// YAML, read by server/judge/pool/judges_config.h): the LLMs that write and
// rewrite rubrics for RubricService, each an HttpProposer on the HTTP event
// loop the judges of the same file share.
//
//   {"judges": [...],
//    "proposers": [{"name": "writer", "replicas": ["http://h:8000/v1"],
//                   "model": "Qwen/Qwen3-32B", "max_in_flight": 8}]}
//
// Fields of one proposer: ParseHttpProposerConfig (http_proposer.h). The
// first proposer is the default one (ProposerOptions.proposer empty). The
// section is optional: without it the list is empty.
//
//   absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> p =
//       BuildProposers(*file.document, file.base_dir, file.loop);
//
// Thread-safety: a pure function of the document (plus the environment for
// API keys); the proposers it returns are thread-safe.
#ifndef REWARDD_SERVER_ELICITATION_PROPOSERS_CONFIG_H_
#define REWARDD_SERVER_ELICITATION_PROPOSERS_CONFIG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "server/elicitation/proposer.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/pool/judge_pool_metrics.h"

namespace rewardd {

// The proposers of `doc`["proposers"], in order. Fails naming the entry
// and field that are wrong, or two proposers with one name. With `metrics`
// (which must outlive the proposers) each exports the rewardd_judge_*
// series with role="proposer".
absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> BuildProposers(
    const nlohmann::json& doc, const std::string& base_dir,
    std::shared_ptr<CurlMultiLoop> loop,
    JudgeMetricFamilies* metrics = nullptr);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSERS_CONFIG_H_
