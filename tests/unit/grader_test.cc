// The Grader with a fake in-process Judge whose answers each test scripts:
// expansion of a response into judge work per grading mode, aggregation of
// the pieces' verdicts into the right criteria, the missing-verdict
// policies, refusals, answers from another thread, and a judge that breaks
// its exactly-once contract.
#include "server/grading/grader.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;
using Pieces = std::vector<std::vector<uint32_t>>;

// A Judge that records the work it gets and answers through `answer`
// (which may answer at once, later, twice, or keep the callback).
class FakeJudge : public Judge {
 public:
  using Answer = std::function<void(const JudgeWork&, JudgeCallback)>;

  FakeJudge(GradingMode default_mode, Answer answer)
      : default_mode_(default_mode), answer_(std::move(answer)) {}

  const std::string& name() const override { return name_; }
  GradingMode default_mode() const override { return default_mode_; }
  void Grade(JudgeWork work, JudgeCallback done) override {
    {
      absl::MutexLock lock(&mu_);
      pieces_.push_back(work.criteria);
    }
    answer_(work, std::move(done));
  }

  Pieces pieces() const {
    absl::MutexLock lock(&mu_);
    return pieces_;
  }

 private:
  const std::string name_ = "fake";
  const GradingMode default_mode_;
  const Answer answer_;
  mutable absl::Mutex mu_;
  Pieces pieces_ ABSL_GUARDED_BY(mu_);
};

// Answers each criterion met when `met(criterion index)`, with the given
// times, at once.
FakeJudge::Answer AnswerNow(std::function<bool(uint32_t)> met,
                            absl::Duration queue = absl::ZeroDuration(),
                            absl::Duration judge = absl::ZeroDuration()) {
  return [met, queue, judge](const JudgeWork& work, JudgeCallback done) {
    JudgeResult result;
    result.queue_time = queue;
    result.judge_time = judge;
    for (uint32_t c : work.criteria) {
      Verdict& v = result.verdicts.emplace_back();
      v.status = CriterionStatus::kOk;
      v.met = met(c);
    }
    std::move(done)(std::move(result));
  };
}

// Weights 3, 1, -2 (the last is "bad behaviour present" when met).
std::shared_ptr<GradeInput> Input(GradingMode mode, uint32_t chunk_size = 0) {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = "r";
  for (double w : {3.0, 1.0, -2.0}) {
    Criterion& c = rubric->criteria.emplace_back();
    c.id = "c" + std::to_string(rubric->criteria.size() - 1);
    c.text = "criterion";
    c.weight = w;
  }
  auto input = std::make_shared<GradeInput>();
  input->rubric = std::move(rubric);
  input->mode = mode;
  input->chunk_size = chunk_size;
  input->response = "a response";
  return input;
}

// Grades and returns what the callback got, checking it ran exactly once
// before Grade() returned (every fake here answers synchronously).
absl::StatusOr<GradeResult> GradeNow(Judge* judge,
                                     std::shared_ptr<GradeInput> input,
                                     ScoringOptions scoring = {}) {
  JudgeRegistry judges;
  EXPECT_TRUE(judges.Add(std::shared_ptr<Judge>(judge, [](Judge*) {})).ok());
  Grader grader(&judges);
  int calls = 0;
  absl::StatusOr<GradeResult> out = absl::UnknownError("not called");
  grader.Grade(input, "", scoring, [&](absl::StatusOr<GradeResult> r) {
    ++calls;
    out = std::move(r);
  });
  EXPECT_EQ(calls, 1);
  return out;
}

TEST(GraderExpand, SplitsTheCriteriaByMode) {
  EXPECT_EQ(Grader::Expand(4, GradingMode::kAllInOne, 0),
            (Pieces{{0, 1, 2, 3}}));
  EXPECT_EQ(Grader::Expand(3, GradingMode::kPerCriterion, 0),
            (Pieces{{0}, {1}, {2}}));
  EXPECT_EQ(Grader::Expand(7, GradingMode::kChunked, 3),
            (Pieces{{0, 1, 2}, {3, 4, 5}, {6}}));
  // Chunk size 0: five criteria a piece.
  EXPECT_EQ(Grader::Expand(7, GradingMode::kChunked, 0),
            (Pieces{{0, 1, 2, 3, 4}, {5, 6}}));
  EXPECT_TRUE(Grader::Expand(0, GradingMode::kPerCriterion, 0).empty());
}

TEST(Grader, DefaultModeIsTheJudgesAndEachPieceReachesIt) {
  FakeJudge judge(GradingMode::kPerCriterion,
                  AnswerNow([](uint32_t) { return true; }));
  absl::StatusOr<GradeResult> r =
      GradeNow(&judge, Input(GradingMode::kDefault));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(judge.pieces(), (Pieces{{0}, {1}, {2}}));

  FakeJudge chunked(GradingMode::kAllInOne,
                    AnswerNow([](uint32_t) { return true; }));
  ASSERT_TRUE(GradeNow(&chunked, Input(GradingMode::kChunked, 2)).ok());
  EXPECT_EQ(chunked.pieces(), (Pieces{{0, 1}, {2}}));
}

TEST(Grader, VerdictsLandOnTheirCriteriaAndAreScored) {
  // Criteria 0 and 2 met, in two chunks, so each piece's verdicts must be
  // placed at its own indices.
  FakeJudge judge(GradingMode::kAllInOne,
                  AnswerNow([](uint32_t c) { return c != 1; },
                            absl::Milliseconds(5), absl::Milliseconds(7)));
  absl::StatusOr<GradeResult> r =
      GradeNow(&judge, Input(GradingMode::kChunked, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->verdicts.size(), 3u);
  EXPECT_TRUE(r->verdicts[0].met);
  EXPECT_FALSE(r->verdicts[1].met);
  EXPECT_TRUE(r->verdicts[2].met);
  EXPECT_EQ(r->judge, "fake");
  EXPECT_EQ(r->input->response, "a response");
  // Weighted fraction: (3 - 2) / (3 + 1).
  EXPECT_TRUE(r->score.valid);
  EXPECT_DOUBLE_EQ(r->score.reward, 0.25);
  EXPECT_DOUBLE_EQ(r->score.score, 1);
  EXPECT_DOUBLE_EQ(r->score.max_score, 4);
  EXPECT_EQ(r->queue_time, absl::Milliseconds(5));
  EXPECT_EQ(r->judge_time, absl::Milliseconds(7));
}

TEST(Grader, CriteriaAJudgeLeftOutAreMissingAndFollowThePolicy) {
  // Answers only the first criterion of each piece.
  FakeJudge judge(GradingMode::kAllInOne,
                  [](const JudgeWork& work, JudgeCallback done) {
                    JudgeResult result;
                    Verdict& v = result.verdicts.emplace_back();
                    v.status = CriterionStatus::kOk;
                    v.met = true;
                    std::move(done)(std::move(result));
                  });
  ScoringOptions strict;
  absl::StatusOr<GradeResult> r =
      GradeNow(&judge, Input(GradingMode::kAllInOne), strict);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdicts[0].status, CriterionStatus::kOk);
  EXPECT_EQ(r->verdicts[1].status, CriterionStatus::kMissing);
  EXPECT_EQ(r->verdicts[2].status, CriterionStatus::kMissing);
  // Strict: a criterion left out counts as unmet: 3 / (3 + 1).
  EXPECT_TRUE(r->score.valid);
  EXPECT_DOUBLE_EQ(r->score.reward, 0.75);

  ScoringOptions renormalize;
  renormalize.missing = MissingPolicy::kRenormalize;
  r = GradeNow(&judge, Input(GradingMode::kAllInOne), renormalize);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->score.reward, 1.0);  // 3 / 3

  ScoringOptions invalid;
  invalid.missing = MissingPolicy::kInvalid;
  r = GradeNow(&judge, Input(GradingMode::kAllInOne), invalid);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->score.valid);
  EXPECT_EQ(r->score.reward, 0);
  EXPECT_THAT(r->score.invalid_reason, HasSubstr("MISSING"));
}

TEST(Grader, AFailedJudgeCallMakesTheResultInvalidNeverZero) {
  FakeJudge judge(GradingMode::kPerCriterion,
                  [](const JudgeWork& work, JudgeCallback done) {
                    JudgeResult result;
                    Verdict& v = result.verdicts.emplace_back();
                    if (work.criteria[0] == 1) {
                      v.status = CriterionStatus::kJudgeError;
                      v.explanation = "HTTP 503";
                    } else {
                      v.status = CriterionStatus::kOk;
                      v.met = true;
                    }
                    std::move(done)(std::move(result));
                  });
  absl::StatusOr<GradeResult> r =
      GradeNow(&judge, Input(GradingMode::kDefault));
  ASSERT_TRUE(r.ok()) << "a failed call is a verdict, not an RPC error";
  EXPECT_EQ(r->verdicts[1].status, CriterionStatus::kJudgeError);
  EXPECT_EQ(r->verdicts[1].explanation, "HTTP 503");
  EXPECT_FALSE(r->score.valid);
  EXPECT_THAT(r->score.invalid_reason, HasSubstr("JUDGE_ERROR"));
}

TEST(Grader, ARefusedPieceFailsTheWholeResponseWithTheFirstRefusal) {
  FakeJudge judge(GradingMode::kPerCriterion, [](const JudgeWork& work,
                                                 JudgeCallback done) {
    if (work.criteria[0] == 1) {
      std::move(done)(absl::ResourceExhaustedError("full"));
    } else if (work.criteria[0] == 2) {
      std::move(done)(absl::UnavailableError("stopping"));
    } else {
      AnswerNow([](uint32_t) { return true; })(work, std::move(done));
    }
  });
  absl::StatusOr<GradeResult> r =
      GradeNow(&judge, Input(GradingMode::kDefault));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "full");
  EXPECT_EQ(judge.pieces().size(), 3u);  // every piece was still sent
}

TEST(Grader, AnUnknownJudgeIsNotFoundAndNoJudgeIsCalled) {
  FakeJudge judge(GradingMode::kAllInOne,
                  AnswerNow([](uint32_t) { return true; }));
  JudgeRegistry judges;
  ASSERT_TRUE(judges.Add(std::shared_ptr<Judge>(&judge, [](Judge*) {})).ok());
  Grader grader(&judges);
  absl::Status status;
  grader.Grade(Input(GradingMode::kAllInOne), "no-such-judge", {},
               [&](absl::StatusOr<GradeResult> r) { status = r.status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("unknown judge 'no-such-judge'"));
  EXPECT_TRUE(judge.pieces().empty());
}

// "Exactly once" is half enforced by the type: a judge can call its
// callback at most once (move-only, callable only as an rvalue), so a
// second answer to a piece cannot compile; answering at all is its duty.
static_assert(!std::is_copy_constructible_v<JudgeCallback>);
static_assert(
    !std::is_invocable_v<JudgeCallback&, absl::StatusOr<JudgeResult>>);
static_assert(
    std::is_invocable_v<JudgeCallback&&, absl::StatusOr<JudgeResult>>);

TEST(Grader, AnswersFromAnotherThreadFinishOnTheLastAnswerersThread) {
  // Keeps the callbacks; the test answers them from its own thread.
  absl::Mutex mu;
  std::vector<std::pair<JudgeWork, JudgeCallback>> held;
  FakeJudge judge(GradingMode::kPerCriterion,
                  [&](const JudgeWork& work, JudgeCallback done) {
                    absl::MutexLock lock(&mu);
                    held.emplace_back(work, std::move(done));
                  });
  JudgeRegistry judges;
  ASSERT_TRUE(judges.Add(std::shared_ptr<Judge>(&judge, [](Judge*) {})).ok());
  Grader grader(&judges);
  absl::Notification finished;
  std::thread::id finished_on;
  absl::StatusOr<GradeResult> result = absl::UnknownError("not called");
  grader.Grade(Input(GradingMode::kDefault), "", {},
               [&](absl::StatusOr<GradeResult> r) {
                 finished_on = std::this_thread::get_id();
                 result = std::move(r);
                 finished.Notify();
               });
  EXPECT_FALSE(finished.HasBeenNotified());  // nothing answered yet

  std::thread::id answerer;
  std::thread thread([&] {
    answerer = std::this_thread::get_id();
    absl::MutexLock lock(&mu);
    // In reverse order: the aggregation must not depend on it.
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      AnswerNow([](uint32_t c) { return c == 0; })(it->first,
                                                   std::move(it->second));
    }
  });
  thread.join();
  ASSERT_TRUE(finished.HasBeenNotified());
  EXPECT_EQ(finished_on, answerer);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->verdicts[0].met);
  EXPECT_FALSE(result->verdicts[1].met);
  EXPECT_DOUBLE_EQ(result->score.reward, 0.75);  // 3 / (3 + 1)
}

}  // namespace
}  // namespace rewardd
