// The lexical heuristic's stop words: English function words and rubric
// boilerplate ("response", "mentions", "criterion", ...) that say nothing
// about a criterion's content, so they never become its keys. Held as
// stems (stemmer.h) and compared after stemming, so every inflection is
// covered ("mentions", "mentioned" -> "mention").
//
//   if (StopStems().contains(stem)) continue;  // not a key
//
// Thread-safety: the set is built once on first use (thread-safe static)
// and never changes.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_STOP_WORDS_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_STOP_WORDS_H_

#include <string>

#include "absl/container/flat_hash_set.h"

namespace rewardd {

const absl::flat_hash_set<std::string>& StopStems();

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_STOP_WORDS_H_
