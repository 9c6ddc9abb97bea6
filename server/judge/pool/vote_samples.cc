#include "server/judge/pool/vote_samples.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/judge/pool/vote_tally.h"

namespace rewardd {

std::vector<VoteSample> PlanVoteSamples(const HttpJudgeConfig& config,
                                        absl::string_view fingerprint,
                                        int votes) {
  const int64_t first_seed = config.seed.value_or(1);
  std::vector<VoteSample> samples;
  if (config.vote_via_n) {
    // One call drawing all the samples as choices (the API's `n`).
    VoteSample s;
    s.params = CallParams{config.vote_temperature, config.max_tokens,
                          first_seed, votes};
    s.fingerprint =
        absl::StrCat(fingerprint, "\x1fsample\x1f", config.vote_temperature,
                     "\x1f", first_seed, "\x1fn\x1f", votes);
    samples.push_back(std::move(s));
    return samples;
  }
  for (int i = 0; i < votes; ++i) {
    VoteSample s;
    s.params =
        CallParams{config.vote_temperature, config.max_tokens, first_seed + i};
    s.fingerprint =
        absl::StrCat(fingerprint, "\x1fsample\x1f", config.vote_temperature,
                     "\x1f", first_seed + i);
    samples.push_back(std::move(s));
  }
  return samples;
}

std::string VoteFingerprint(const HttpJudgeConfig& config,
                            absl::string_view fingerprint, int votes) {
  return absl::StrCat(fingerprint, "\x1fvotes\x1f", votes, "\x1f",
                      static_cast<int>(config.vote_aggregation), "\x1f",
                      config.vote_temperature);
}

void SplitChoices(absl::StatusOr<JudgeResult> r, int votes,
                  std::vector<absl::StatusOr<JudgeResult>>& samples) {
  if (!r.ok()) {
    for (int i = 0; i < votes; ++i) samples[i] = r.status();
    return;
  }
  const bool call_failed =
      r->more_samples.empty() &&
      std::none_of(
          r->verdicts.begin(), r->verdicts.end(),
          [](const Verdict& v) { return v.status == CriterionStatus::kOk; });
  const size_t returned = 1 + r->more_samples.size();
  for (int i = 0; i < votes; ++i) {
    JudgeResult one;
    one.queue_time = r->queue_time;
    one.judge_time = r->judge_time;
    if (i == 0 || call_failed) {
      one.verdicts = r->verdicts;
    } else if (static_cast<size_t>(i) < returned) {
      one.verdicts = std::move(r->more_samples[i - 1]);
    } else {
      one.verdicts.resize(r->verdicts.size());
      for (Verdict& v : one.verdicts) {
        v.status = CriterionStatus::kJudgeError;
        v.explanation =
            absl::StrCat("the judge returned ", returned, " of ", votes,
                         " choices; set vote_via_n: false if it ignores n");
      }
    }
    samples[i] = std::move(one);
  }
}

VoteCollector::VoteCollector(int votes, JudgeCallback done, VoteAggregation how,
                             std::shared_ptr<VerdictCache> cache,
                             std::vector<CacheKey> keys)
    : done_(std::move(done)),
      how_(how),
      cache_(std::move(cache)),
      keys_(std::move(keys)),
      samples_(votes),
      remaining_(votes) {}

void VoteCollector::AddSample(int i, absl::StatusOr<JudgeResult> r) {
  samples_[i] = std::move(r);
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    TallyAndAnswer();
  }
}

void VoteCollector::AddChoices(absl::StatusOr<JudgeResult> r) {
  SplitChoices(std::move(r), static_cast<int>(samples_.size()), samples_);
  TallyAndAnswer();
}

void VoteCollector::TallyAndAnswer() {
  JudgeResult out;
  std::vector<std::vector<Verdict>> votes;
  votes.reserve(samples_.size());
  for (absl::StatusOr<JudgeResult>& s : samples_) {
    // A sample refused as a whole (deadline, shutdown) refuses the grading:
    // a vote short of samples would not be the vote that was asked for.
    if (!s.ok()) {
      std::move(done_)(s.status());
      return;
    }
    out.queue_time = std::max(out.queue_time, s->queue_time);
    out.judge_time = std::max(out.judge_time, s->judge_time);
    votes.push_back(std::move(s->verdicts));
  }
  out.verdicts = TallyVotes(votes, how_);
  if (cache_ != nullptr && keys_.size() == out.verdicts.size()) {
    for (size_t i = 0; i < out.verdicts.size(); ++i) {
      cache_->Insert(keys_[i], out.verdicts[i]);
    }
  }
  std::move(done_)(std::move(out));
}

}  // namespace rewardd
