// The fixture of the in-process judge pool tests (judge_pool_test,
// judge_pool_batching_test, curl_multi_loop_test): an HTTP loop, the
// "Chasing the Tail" worked example as a rubric with its two responses, the
// pools a test creates (shut down in TearDown, before the loop), and checks
// of verdicts against judge-sim's documented rule. Each test fixture derived
// from it starts its own judge-sim replicas (StartSim); SingleSimFixture
// starts one.
//
//   class MyTest : public SingleSimFixture {};
//   TEST_F(MyTest, Grades) {
//     auto pool = AddPool(SimConfig({sim_->base_url()}), JudgePoolOptions());
//     auto in = PaperInput("R1");
//     ExpectRuleVerdicts(GradeSync(*pool, in, {0, 1}), *in, {0, 1});
//   }
//
// Thread-safety: test-thread only; pools call back on their loop thread.
#ifndef REWARDD_TESTS_INTEGRATION_JUDGE_POOL_FIXTURE_H_
#define REWARDD_TESTS_INTEGRATION_JUDGE_POOL_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/pool/judge_pool.h"
#include "tests/integration/judge_test_support.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {

class JudgePoolFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
        CurlMultiLoop::Create({});
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *loop;
    json_ = PaperExampleJson();
    rubric_ = PaperRubric(json_);
  }
  // Derived fixtures that override it call this first, then stop their
  // simulators: pools and the loop end before the replicas they call.
  void TearDown() override {
    for (auto& p : pools_) p->Shutdown();
    pools_.clear();
    loop_.reset();
  }

  // Starts a judge-sim into *sim (a fatal test failure if it cannot).
  static void StartSim(const SimOptions& options,
                       std::unique_ptr<JudgeSim>* sim) {
    absl::StatusOr<std::unique_ptr<JudgeSim>> s = JudgeSim::Start(options);
    ASSERT_TRUE(s.ok()) << s.status();
    *sim = *std::move(s);
  }

  // A judge named "sim" of model "judge-sim" on `replicas`.
  static HttpJudgeConfig SimConfig(std::vector<std::string> replicas) {
    HttpJudgeConfig c;
    c.name = "sim";
    c.model = "judge-sim";
    c.replicas = std::move(replicas);
    c.timeout = absl::Seconds(10);
    return c;
  }

  // A pool on the fixture's loop, shut down in TearDown.
  std::shared_ptr<JudgePool> AddPool(
      HttpJudgeConfig c, JudgePoolOptions o,
      std::shared_ptr<VerdictCache> cache = nullptr,
      JudgeMetricFamilies* metrics = nullptr) {
    absl::StatusOr<std::shared_ptr<JudgePool>> p =
        JudgePool::Create(std::move(c), o, loop_, std::move(cache), metrics);
    EXPECT_TRUE(p.ok()) << p.status();
    pools_.push_back(*p);
    return *p;
  }

  // Response `label` ("R1", "R2") of the worked example, to grade in `mode`.
  std::shared_ptr<GradeInput> PaperInput(
      const std::string& label, GradingMode mode = GradingMode::kAllInOne) {
    auto in = std::make_shared<GradeInput>();
    in->rubric = rubric_;
    in->prompt = rubric_->prompt;
    in->response = json_["responses"][label];
    in->mode = mode;
    return in;
  }

  static JudgeOutcome GradeSync(Judge& judge,
                                std::shared_ptr<const GradeInput> in,
                                std::vector<uint32_t> criteria) {
    JudgeWaiter w;
    judge.Grade(JudgeWork{std::move(in), std::move(criteria)}, w.Callback());
    return w.Wait();
  }

  // Every verdict OK and equal to the simulator's rule.
  static void ExpectRuleVerdicts(const JudgeOutcome& o, const GradeInput& in,
                                 const std::vector<uint32_t>& criteria) {
    ASSERT_TRUE(o.status.ok()) << o.status;
    ASSERT_EQ(o.result.verdicts.size(), criteria.size());
    for (size_t i = 0; i < criteria.size(); ++i) {
      const Criterion& c = in.rubric->criteria[criteria[i]];
      const Verdict& v = o.result.verdicts[i];
      EXPECT_EQ(v.status, CriterionStatus::kOk)
          << c.id << ": " << v.explanation;
      EXPECT_EQ(v.met, SimRuleVerdict(c.text, in.response)) << c.id;
    }
  }

  std::shared_ptr<CurlMultiLoop> loop_;
  std::vector<std::shared_ptr<JudgePool>> pools_;
  nlohmann::json json_;
  std::shared_ptr<const Rubric> rubric_;
};

// The fixture with one judge-sim replica (`sim_`: 16 requests at once,
// ~2 ms each) that judge_pool_test and curl_multi_loop_test use.
class SingleSimFixture : public JudgePoolFixture {
 protected:
  void SetUp() override {
    JudgePoolFixture::SetUp();
    SimOptions o;
    o.capacity = 16;
    o.latency_mean = absl::Milliseconds(2);
    StartSim(o, &sim_);
  }
  void TearDown() override {
    JudgePoolFixture::TearDown();
    sim_.reset();
  }

  std::unique_ptr<JudgeSim> sim_;
};

}  // namespace rewardd

#endif  // REWARDD_TESTS_INTEGRATION_JUDGE_POOL_FIXTURE_H_
