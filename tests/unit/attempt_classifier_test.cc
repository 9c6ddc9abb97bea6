// AttemptClassifier: what one finished HTTP attempt means (finish, retry
// after a delay, ignore) and what it says about the replica, table-driven
// with results built by hand (no network, no clock); MergeChoices; and the
// retry backoff.
#include "server/judge/pool/attempt_classifier.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;
using Action = AttemptDecision::Action;
using Outcome = DecodedCall::Outcome;

const absl::Time kNow = absl::FromUnixSeconds(1000);

HttpJudgeConfig Config() {
  HttpJudgeConfig c;
  c.name = "j";
  c.replicas = {"http://r0/v1", "http://r1/v1"};
  c.parse_retries = 2;
  c.parse_retry_temperature_step = 0.5;
  c.length_retries = 1;
  c.length_retry_tokens = 2048;
  return c;
}

JudgePoolOptions Options() {
  JudgePoolOptions o;
  o.max_attempts = 3;
  o.max_retry_after = absl::Seconds(30);
  o.min_time_to_start = absl::Milliseconds(20);
  return o;
}

HttpResult Http(long status, std::string body = "",
                std::optional<absl::Duration> retry_after = std::nullopt) {
  HttpResult r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after = retry_after;
  r.elapsed = absl::Milliseconds(40);
  return r;
}

HttpResult Transport(CURLcode code, std::string error) {
  HttpResult r;
  r.curl_code = code;
  r.error = std::move(error);
  r.elapsed = absl::Milliseconds(40);
  return r;
}

HttpResult Cancelled() {
  HttpResult r;
  r.cancelled = true;
  return r;
}

AttemptState State() {
  AttemptState s;
  s.now = kNow;
  s.deadline = kNow + absl::Minutes(1);
  return s;
}

struct Case {
  std::string name;
  HttpResult result;
  std::optional<Outcome> outcome;  // set: the attempt got HTTP 200
  AttemptState state;
  // Expected.
  Action action;
  ReplicaHealth health;
  CriterionStatus status = CriterionStatus::kJudgeError;  // kFinish
  std::string message = "";                               // a substring
  absl::Duration delay = absl::ZeroDuration();            // kRetry
  bool use_verdicts = false;
};

// The backoff before retry k: 100 ms * k (no jitter: deterministic).
absl::Duration Backoff(int retry) { return absl::Milliseconds(100) * retry; }

std::vector<Case> Cases() {
  std::vector<Case> cases;
  AttemptState s = State();
  cases.push_back({"200 ok", Http(200), Outcome::kOk, s, Action::kFinish,
                   ReplicaHealth::kSuccess, CriterionStatus::kOk, "",
                   absl::ZeroDuration(), true});
  cases.push_back({"429 with Retry-After waits for it",
                   Http(429, "", absl::Seconds(2)), std::nullopt, s,
                   Action::kRetry, ReplicaHealth::kRateLimited,
                   CriterionStatus::kJudgeError, "", absl::Seconds(2)});
  cases.push_back({"429 without Retry-After backs off", Http(429), std::nullopt,
                   s, Action::kRetry, ReplicaHealth::kRateLimited,
                   CriterionStatus::kJudgeError, "", absl::Milliseconds(100)});
  cases.push_back({"503 is retried", Http(503, "busy"), std::nullopt, s,
                   Action::kRetry, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError, "", absl::Milliseconds(100)});
  AttemptState last = s;
  last.attempts = 2;
  cases.push_back({"503 on the last attempt", Http(503, "busy"), std::nullopt,
                   last, Action::kFinish, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError,
                   "judge 'j' answered HTTP 503: busy (3 attempts)"});
  cases.push_back({"a transport error is retried",
                   Transport(CURLE_COULDNT_CONNECT, "refused"), std::nullopt, s,
                   Action::kRetry, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError, "", absl::Milliseconds(100)});
  cases.push_back({"a transport error on the last attempt names the replica",
                   Transport(CURLE_COULDNT_CONNECT, "refused"), std::nullopt,
                   last, Action::kFinish, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError,
                   "judge 'j' replica http://r1/v1: refused (3 attempts)"});
  cases.push_back({"a timeout before the deadline is the replica's",
                   Transport(CURLE_OPERATION_TIMEDOUT, "timed out"),
                   std::nullopt, s, Action::kRetry, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError, "", absl::Milliseconds(100)});
  AttemptState at_deadline = s;
  at_deadline.deadline = kNow + absl::Milliseconds(3);
  cases.push_back({"a timeout at the deadline is TIMEOUT",
                   Transport(CURLE_OPERATION_TIMEDOUT, "timed out"),
                   std::nullopt, at_deadline, Action::kFinish,
                   ReplicaHealth::kNone, CriterionStatus::kTimeout,
                   "the deadline passed during the judge call (after 40ms)"});
  AttemptState close = s;
  close.deadline = kNow + absl::Milliseconds(50);
  cases.push_back({"no time left to retry", Http(500, "oops"), std::nullopt,
                   close, Action::kFinish, ReplicaHealth::kFailure,
                   CriterionStatus::kJudgeError,
                   "answered HTTP 500: oops; no time left before the deadline "
                   "to retry"});
  cases.push_back({"another 4xx is not retried", Http(400, "bad field"),
                   std::nullopt, s, Action::kFinish, ReplicaHealth::kSuccess,
                   CriterionStatus::kJudgeError,
                   "judge 'j' answered HTTP 400: bad field"});
  cases.push_back({"an unparsable answer is retried at once", Http(200),
                   Outcome::kUnparsable, s, Action::kRetry,
                   ReplicaHealth::kSuccess});
  AttemptState no_parse_left = s;
  no_parse_left.parse_retries = 2;
  cases.push_back({"an unparsable answer without retries left is final",
                   Http(200), Outcome::kUnparsable, no_parse_left,
                   Action::kFinish, ReplicaHealth::kSuccess,
                   CriterionStatus::kOk, "", absl::ZeroDuration(), true});
  cases.push_back({"a truncated answer is retried at once", Http(200),
                   Outcome::kTruncated, s, Action::kRetry,
                   ReplicaHealth::kSuccess});
  AttemptState no_length_left = s;
  no_length_left.length_retries = 1;
  cases.push_back({"a truncated answer without retries left is final",
                   Http(200), Outcome::kTruncated, no_length_left,
                   Action::kFinish, ReplicaHealth::kSuccess,
                   CriterionStatus::kOk, "", absl::ZeroDuration(), true});
  AttemptState stopping = s;
  stopping.stopping = true;
  cases.push_back({"cancelled at shutdown", Cancelled(), std::nullopt, stopping,
                   Action::kFinish, ReplicaHealth::kNone,
                   CriterionStatus::kJudgeError,
                   "the judge pool shut down during the call"});
  AttemptState cancelled = s;
  cancelled.all_cancelled = true;
  cases.push_back({"cancelled by the request", Cancelled(), std::nullopt,
                   cancelled, Action::kFinish, ReplicaHealth::kNone,
                   CriterionStatus::kSkipped, "the request was cancelled"});
  cases.push_back({"cancelled by the sweep at the deadline", Cancelled(),
                   std::nullopt, s, Action::kFinish, ReplicaHealth::kNone,
                   CriterionStatus::kTimeout,
                   "the deadline passed during the judge call"});
  AttemptState hedged = s;
  hedged.other_attempt_live = true;
  cases.push_back({"a hedged call's failed attempt is ignored, health counts",
                   Http(500), std::nullopt, hedged, Action::kIgnore,
                   ReplicaHealth::kFailure});
  cases.push_back({"a hedged call's 429 cools its replica",
                   Http(429, "", absl::Seconds(1)), std::nullopt, hedged,
                   Action::kIgnore, ReplicaHealth::kRateLimited});
  cases.push_back({"a hedged call's unparsable answer is ignored", Http(200),
                   Outcome::kUnparsable, hedged, Action::kIgnore,
                   ReplicaHealth::kSuccess});
  cases.push_back({"a hedged call's aborted attempt says nothing", Cancelled(),
                   std::nullopt, hedged, Action::kIgnore,
                   ReplicaHealth::kNone});
  cases.push_back({"a hedged call's first good answer finishes it", Http(200),
                   Outcome::kOk, hedged, Action::kFinish,
                   ReplicaHealth::kSuccess, CriterionStatus::kOk, "",
                   absl::ZeroDuration(), true});
  AttemptState won = s;
  won.won = true;
  cases.push_back({"the attempt that lost is ignored entirely", Http(200),
                   Outcome::kOk, won, Action::kIgnore, ReplicaHealth::kNone});
  return cases;
}

TEST(AttemptClassifierTest, EachResultHasOneDecision) {
  const HttpJudgeConfig config = Config();
  const JudgePoolOptions options = Options();
  const AttemptClassifier classifier(config, options);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const AttemptDecision d = classifier.Classify(
        /*replica=*/1, c.result, c.outcome ? &*c.outcome : nullptr, c.state,
        Backoff);
    EXPECT_EQ(d.action, c.action);
    EXPECT_EQ(d.health, c.health);
    if (c.action == Action::kFinish) {
      EXPECT_EQ(d.status, c.status);
      EXPECT_EQ(d.use_verdicts, c.use_verdicts);
      EXPECT_THAT(d.message, HasSubstr(c.message));
    }
    if (c.action == Action::kRetry) EXPECT_EQ(d.delay, c.delay);
    // Only an answer's time counts toward the pool's latency.
    EXPECT_EQ(d.record_latency,
              c.outcome.has_value() && !c.state.won &&
                  !(c.state.other_attempt_live && *c.outcome != Outcome::kOk));
  }
}

TEST(AttemptClassifierTest, RetriesCarryTheirReasonAndNextParameters) {
  const HttpJudgeConfig config = Config();
  const JudgePoolOptions options = Options();
  const AttemptClassifier classifier(config, options);
  AttemptState s = State();
  s.params.temperature = 0.2;

  const AttemptDecision server =
      classifier.Classify(0, Http(502), nullptr, s, Backoff);
  EXPECT_EQ(server.reason, JudgeRetryReason::kServerError);
  EXPECT_FALSE(server.parse_retry);
  EXPECT_TRUE(server.avoid_replica);
  EXPECT_EQ(server.attempts, 1);

  const AttemptDecision limited = classifier.Classify(
      0, Http(429, "", absl::Minutes(5)), nullptr, s, Backoff);
  EXPECT_EQ(limited.reason, JudgeRetryReason::kRateLimited);
  // Retry-After is capped at max_retry_after, for the wait and the cool-down.
  EXPECT_EQ(limited.delay, absl::Seconds(30));
  EXPECT_EQ(limited.cool_until, kNow + absl::Seconds(30));

  const Outcome unparsable = Outcome::kUnparsable;
  const AttemptDecision parse =
      classifier.Classify(0, Http(200), &unparsable, s, Backoff);
  EXPECT_EQ(parse.reason, JudgeRetryReason::kUnparsable);
  EXPECT_TRUE(parse.parse_retry);
  EXPECT_FALSE(parse.avoid_replica);
  EXPECT_EQ(parse.delay, absl::ZeroDuration());
  EXPECT_EQ(parse.parse_retries, 1);
  EXPECT_DOUBLE_EQ(parse.params.temperature, 0.7);
  s.params.temperature = 0.8;  // the step is capped at 1
  EXPECT_DOUBLE_EQ(classifier.Classify(0, Http(200), &unparsable, s, Backoff)
                       .params.temperature,
                   1.0);

  const Outcome truncated = Outcome::kTruncated;
  const AttemptDecision length =
      classifier.Classify(0, Http(200), &truncated, s, Backoff);
  EXPECT_EQ(length.reason, JudgeRetryReason::kTruncated);
  EXPECT_TRUE(length.parse_retry);
  EXPECT_EQ(length.length_retries, 1);
  EXPECT_EQ(length.params.max_tokens, 2048);  // unset: length_retry_tokens
  s.params.max_tokens = 3000;
  EXPECT_EQ(classifier.Classify(0, Http(200), &truncated, s, Backoff)
                .params.max_tokens,
            6000);  // twice the budget
  s.params.max_tokens = 100;
  EXPECT_EQ(classifier.Classify(0, Http(200), &truncated, s, Backoff)
                .params.max_tokens,
            2048);  // at least length_retry_tokens
}

TEST(AttemptClassifierTest, ErrorBodiesAreCutShort) {
  const HttpJudgeConfig config = Config();
  JudgePoolOptions options = Options();
  options.max_attempts = 1;
  const AttemptClassifier classifier(config, options);
  const std::string body(1000, 'x');
  const AttemptDecision server =
      classifier.Classify(0, Http(500, body), nullptr, State(), Backoff);
  EXPECT_THAT(server.message, HasSubstr(std::string(200, 'x') + " (1 "));
  EXPECT_THAT(server.message, ::testing::Not(HasSubstr(std::string(201, 'x'))));
  const AttemptDecision client =
      classifier.Classify(0, Http(404, body), nullptr, State(), Backoff);
  EXPECT_THAT(client.message, HasSubstr(std::string(300, 'x')));
  EXPECT_THAT(client.message, ::testing::Not(HasSubstr(std::string(301, 'x'))));
}

TEST(MergeChoicesTest, AnyGoodChoiceMakesTheCallGoodAndShortRepliesAreSeen) {
  DecodedCall d;
  d.outcome = Outcome::kUnparsable;
  DecodedCall good;
  good.outcome = Outcome::kOk;
  d.more_choices.push_back(good);
  ChoicesOutcome m = MergeChoices(d, 3);
  EXPECT_EQ(m.outcome, Outcome::kOk);
  EXPECT_TRUE(m.short_choices);  // 2 of 3
  d.more_choices.push_back(good);
  EXPECT_FALSE(MergeChoices(d, 3).short_choices);
  // A plain call (n = 1) is its first choice.
  m = MergeChoices(d, 1);
  EXPECT_EQ(m.outcome, Outcome::kUnparsable);
  EXPECT_FALSE(m.short_choices);
  // No choice readable: retried as unparsable.
  DecodedCall none;
  none.outcome = Outcome::kUnparsable;
  none.more_choices.resize(2);
  EXPECT_EQ(MergeChoices(none, 3).outcome, Outcome::kUnparsable);
}

TEST(RetryBackoffTest, GrowsExponentiallyWithinJitterAndCap) {
  JudgePoolOptions o;
  o.initial_backoff = absl::Milliseconds(100);
  o.backoff_multiplier = 2;
  o.max_backoff = absl::Seconds(1);
  o.backoff_jitter = 0.5;
  absl::BitGen gen;
  for (int i = 0; i < 50; ++i) {
    const absl::Duration d1 = RetryBackoff(1, o, gen);
    EXPECT_GE(d1, absl::Milliseconds(50));
    EXPECT_LE(d1, absl::Milliseconds(150));
    const absl::Duration d3 = RetryBackoff(3, o, gen);
    EXPECT_GE(d3, absl::Milliseconds(200));
    EXPECT_LE(d3, absl::Milliseconds(600));
    EXPECT_LE(RetryBackoff(10, o, gen), o.max_backoff);
  }
}

}  // namespace
}  // namespace rewardd
