// The RewardService's per-request limits and knobs, one field per flag
// (README and `rewardd --help` describe the flags).
//
// Thread-safety: a plain struct, read-only once the service is built.
#ifndef REWARDD_SERVER_SERVICE_SERVICE_OPTIONS_H_
#define REWARDD_SERVER_SERVICE_SERVICE_OPTIONS_H_

#include <cstddef>

namespace rewardd {

struct ServiceOptions {
  // Largest response text accepted, in bytes (--max_response_bytes).
  size_t max_response_bytes = 1 << 20;
  // Largest prompt (text or all messages), in bytes (--max_prompt_bytes).
  size_t max_prompt_bytes = 1 << 20;
  // Most criteria an inline rubric may have (--max_criteria_per_rubric).
  size_t max_criteria_per_rubric = 256;
  // Most responses in one GradeGroup (--max_group_size).
  size_t max_group_size = 256;
  // Stream items being graded at once per GradeStream; reading pauses at
  // this many (flow control), so a slow client costs bounded memory
  // (--max_stream_inflight).
  size_t max_stream_inflight = 64;
  // Distinct inline rubrics kept validated (regexes compiled, version
  // hashed); 0 = validate every request (--inline_rubric_cache_size).
  size_t inline_rubric_cache_size = 4096;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_SERVICE_OPTIONS_H_
