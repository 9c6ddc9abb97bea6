// rewardd's metrics as a real Prometheus sees them: a rewardd process and a
// Prometheus server (Debian's `prometheus` package, scripts/bootstrap.sh) on
// 127.0.0.1, Prometheus scraping rewardd every second and evaluating
// deploy/prometheus/rules.yml every second. Grading traffic with known
// rewards (a rubric of exact checks on the embedded judge) goes in; the raw
// series, the recording rules, the drift gauges, bounded label cardinality
// and every dashboard query are checked through Prometheus' HTTP API.
// `promtool check metrics` must find nothing wrong with /metrics, and the
// drift baseline must survive a restart.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/integration/rewardd_process.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::IsEmpty;

const std::string kSource = REWARDD_SOURCE_DIR;
constexpr double kTolerance = 1e-9;
// How long to wait for Prometheus to catch up (scrapes and rule evaluations
// run every second; this only bounds a hang).
constexpr absl::Duration kCatchUp = absl::Seconds(40);

// A port that was free a moment ago (Prometheus cannot report the port it
// bound, so it gets one picked here).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// A child process with stdout and stderr in a log file; killed on
// destruction.
class Child {
 public:
  Child(std::vector<std::string> argv, std::string log)
      : argv_(std::move(argv)), log_(std::move(log)) {}
  ~Child() { Stop(); }

  bool Start() {
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (std::string& a : argv_) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    return true;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    pid_ = -1;
  }
  std::string Log() const { return ReadFile(log_); }

 private:
  std::vector<std::string> argv_;
  std::string log_;
  pid_t pid_ = -1;
};

// Prometheus' HTTP API.
class PrometheusApi {
 public:
  explicit PrometheusApi(int port) : client_("127.0.0.1", port) {
    client_.set_read_timeout(10, 0);
  }

  // The instant-query result vector, or an error naming what went wrong.
  absl::StatusOr<nlohmann::json> Query(const std::string& expr) {
    auto res = client_.Get("/api/v1/query", httplib::Params{{"query", expr}},
                           httplib::Headers{});
    if (!res) return absl::UnavailableError("prometheus not reachable");
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_discarded() || body.value("status", "") != "success") {
      return absl::InvalidArgumentError(
          absl::StrCat(expr, ": ", res->status, " ", res->body));
    }
    return body["data"]["result"];
  }

  // The value of a query expected to give exactly one sample; NaN when it
  // gives none (yet).
  double Value(const std::string& expr) {
    absl::StatusOr<nlohmann::json> r = Query(expr);
    if (!r.ok() || !r->is_array() || r->size() != 1) return NAN;
    return std::stod((*r)[0]["value"][1].get<std::string>());
  }

  // Polls until the query's single value is within kTolerance of `want` (or
  // kCatchUp passes) and returns the last value seen.
  double WaitForValue(const std::string& expr, double want) {
    const absl::Time deadline = absl::Now() + kCatchUp;
    double v = Value(expr);
    while (!(std::abs(v - want) <= kTolerance) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(250));
      v = Value(expr);
    }
    return v;
  }

  bool Ready() {
    auto res = client_.Get("/-/ready");
    return res && res->status == 200;
  }

  std::set<std::string> LabelValues(const std::string& label,
                                    const std::string& match) {
    auto res =
        client_.Get(absl::StrCat("/api/v1/label/", label, "/values"),
                    httplib::Params{{"match[]", match}}, httplib::Headers{});
    std::set<std::string> out;
    if (!res) return out;
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_discarded()) return out;
    for (const auto& v : body["data"]) out.insert(v.get<std::string>());
    return out;
  }

 private:
  httplib::Client client_;
};

// Rubric set "exact": one rubric of four CONTAINS checks, each tagged with
// its own axis, so a response's reward is (Greek letters it names) / 4.
constexpr char kExactSet[] = R"json({"rubrics": [{
  "id": "four", "prompt": "Name four Greek letters.",
  "criteria": [
    {"id": "a", "text": "Names alpha", "tags": ["axis:a"],
     "check": {"type": "contains", "values": ["alpha"]}},
    {"id": "b", "text": "Names beta", "tags": ["axis:b"],
     "check": {"type": "contains", "values": ["beta"]}},
    {"id": "c", "text": "Names gamma", "tags": ["axis:c"],
     "check": {"type": "contains", "values": ["gamma"]}},
    {"id": "d", "text": "Names delta", "tags": ["axis:d"],
     "check": {"type": "contains", "values": ["delta"]}}]}]})json";

// The responses of each phase and their rewards: the reference window is
// the first 20 rewards, the recent window the last 20.
const std::vector<std::pair<std::string, double>> kReferencePhase = {
    {"alpha", 0.25}, {"alpha beta", 0.5}};
const std::vector<std::pair<std::string, double>> kRecentPhase = {
    {"alpha beta gamma delta", 1.0}, {"alpha beta gamma", 0.75}};
constexpr int kPerResponse = 10;
constexpr int kWindow = 2 * kPerResponse;
constexpr int kPolicyVersions = 30;
constexpr int kPolicyVersionLimit = 3;
constexpr int kGroupSize = 4;

pb::Rubric InlineRubric() {
  pb::Rubric r;
  auto* a = r.add_criteria();
  a->set_id("ok");
  a->set_text("Says ok");
  a->set_weight(1);
  a->mutable_check()->set_kind(pb::Check::CONTAINS);
  a->mutable_check()->add_values("ok");
  auto* b = r.add_criteria();
  b->set_id("short");
  b->set_text("At most 3 words");
  b->set_weight(1);
  b->mutable_check()->set_kind(pb::Check::WORD_COUNT);
  b->mutable_check()->set_max(3);
  return r;
}

// The documented PSI: 10 bins on [0, 1], half a count of smoothing per bin.
double ExpectedPsi(const std::vector<double>& ref,
                   const std::vector<double>& win) {
  double e[10] = {}, a[10] = {};
  auto bin = [](double x) { return std::min(9, static_cast<int>(x * 10)); };
  for (double x : ref) e[bin(x)] += 1;
  for (double x : win) a[bin(x)] += 1;
  double psi = 0;
  for (int i = 0; i < 10; ++i) {
    const double p = (e[i] + 0.5) / (ref.size() + 5.0);
    const double q = (a[i] + 0.5) / (win.size() + 5.0);
    psi += (q - p) * std::log(q / p);
  }
  return psi;
}

std::string RunPromtoolCheckMetrics(const std::string& metrics_text,
                                    const std::string& dir, int* exit_code) {
  const std::string file = dir + "/metrics.txt";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    std::fwrite(metrics_text.data(), 1, metrics_text.size(), f);
    std::fclose(f);
  }
  const std::string cmd =
      absl::StrCat(PROMTOOL_BIN, " check metrics < ", file, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(std::filesystem::exists(PROMETHEUS_BIN))
        << PROMETHEUS_BIN << " missing: run scripts/bootstrap.sh";
    dir_ = new TempDir();
    std::filesystem::create_directories(dir_->path() + "/rubrics");
    dir_->Write("rubrics/exact.json", kExactSet);

    rewardd_ = new RewarddProcess(
        {"--rubric_dir=" + dir_->path() + "/rubrics", "--rubric_poll_seconds=0",
         "--metrics_listen=127.0.0.1:0",
         "--metrics_port_file=" + dir_->path() + "/metrics_port",
         absl::StrCat("--policy_version_limit=", kPolicyVersionLimit),
         absl::StrCat("--drift_reference_size=", kWindow),
         absl::StrCat("--drift_window=", kWindow), "--drain_grace_seconds=0",
         "--drain_seconds=2"});
    ASSERT_TRUE(rewardd_->Start().ok()) << rewardd_->Log();
    metrics_port_ = std::stoi(ReadFile(dir_->path() + "/metrics_port"));
    ASSERT_GT(metrics_port_, 0);

    prometheus_port_ = FreePort();
    ASSERT_GT(prometheus_port_, 0);
    dir_->Write("prometheus.yml", absl::StrCat("global:\n"
                                               "  scrape_interval: 1s\n"
                                               "  evaluation_interval: 1s\n"
                                               "rule_files:\n"
                                               "  - ",
                                               kSource,
                                               "/deploy/prometheus/rules.yml\n"
                                               "scrape_configs:\n"
                                               "  - job_name: rewardd\n"
                                               "    static_configs:\n"
                                               "      - targets: ['127.0.0.1:",
                                               metrics_port_, "']\n"));
    prometheus_ = new Child(
        {PROMETHEUS_BIN, "--config.file=" + dir_->path() + "/prometheus.yml",
         "--storage.tsdb.path=" + dir_->path() + "/tsdb",
         absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_),
         "--log.level=warn"},
        dir_->path() + "/prometheus.log");
    ASSERT_TRUE(prometheus_->Start());
    api_ = new PrometheusApi(prometheus_port_);
    const absl::Time deadline = absl::Now() + kCatchUp;
    while (!api_->Ready() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    ASSERT_TRUE(api_->Ready()) << prometheus_->Log();

    // Traffic starts only once Prometheus holds the zero samples of the
    // set's series (so rate() sees every increase; see rules.yml).
    ASSERT_EQ(api_->WaitForValue(
                  "rewardd_criterion_results_total{rubric_set=\"exact\","
                  "tag=\"axis:d\",result=\"pass\"}",
                  0),
              0)
        << prometheus_->Log();

    RewardClient::Options options;
    options.target = rewardd_->address();
    absl::StatusOr<std::unique_ptr<RewardClient>> client =
        RewardClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = client->release();

    // Reference phase, then recent phase: sequential calls, so the order of
    // rewards (and so the drift windows) is known.
    for (const auto* phase : {&kReferencePhase, &kRecentPhase}) {
      for (const auto& [text, reward] : *phase) {
        for (int i = 0; i < kPerResponse; ++i) {
          pb::GradeRequest req;
          req.set_rubric_set("exact");
          req.set_rubric_id("four");
          req.set_response(text);
          absl::StatusOr<pb::GradeResponse> r = client_->Grade(req);
          ASSERT_TRUE(r.ok()) << r.status();
          ASSERT_TRUE(r->valid());
          ASSERT_DOUBLE_EQ(r->reward(), reward);  // the rubric works
        }
      }
    }
    // Many distinct policy versions on an inline rubric.
    for (int i = 0; i < kPolicyVersions; ++i) {
      pb::GradeRequest req;
      *req.mutable_rubric() = InlineRubric();
      req.set_response("ok");
      (*req.mutable_labels())["policy_version"] = absl::StrCat("ckpt-", i);
      absl::StatusOr<pb::GradeResponse> r = client_->Grade(req);
      ASSERT_TRUE(r.ok()) << r.status();
    }
    pb::GradeGroupRequest group;
    *group.mutable_rubric() = InlineRubric();
    for (int i = 0; i < kGroupSize; ++i) group.add_responses("ok then");
    (*group.mutable_labels())["policy_version"] = "ckpt-0";
    absl::StatusOr<pb::GradeGroupResponse> g = client_->GradeGroup(group);
    ASSERT_TRUE(g.ok()) << g.status();
    pb::GradeRequest unknown;
    unknown.set_rubric_set("no-such-set");
    unknown.set_response("x");
    ASSERT_TRUE(absl::IsNotFound(client_->Grade(unknown).status()));
  }

  static void TearDownTestSuite() {
    delete client_;
    delete api_;
    delete prometheus_;
    delete rewardd_;
    delete dir_;
  }

  static TempDir* dir_;
  static RewarddProcess* rewardd_;
  static Child* prometheus_;
  static PrometheusApi* api_;
  static RewardClient* client_;
  static int metrics_port_;
  static int prometheus_port_;
};
TempDir* PrometheusTest::dir_ = nullptr;
RewarddProcess* PrometheusTest::rewardd_ = nullptr;
Child* PrometheusTest::prometheus_ = nullptr;
PrometheusApi* PrometheusTest::api_ = nullptr;
RewardClient* PrometheusTest::client_ = nullptr;
int PrometheusTest::metrics_port_ = 0;
int PrometheusTest::prometheus_port_ = 0;

std::vector<double> Rewards(
    const std::vector<std::pair<std::string, double>>& phase) {
  std::vector<double> out;
  for (const auto& [text, reward] : phase)
    out.insert(out.end(), kPerResponse, reward);
  return out;
}

TEST_F(PrometheusTest, ScrapedSeriesHaveTheKnownValues) {
  std::vector<double> all = Rewards(kReferencePhase);
  for (double r : Rewards(kRecentPhase)) all.push_back(r);
  double sum = 0;
  int tail = 0, at_most_half = 0;
  for (double r : all) {
    sum += r;
    tail += r >= 0.9;
    at_most_half += r <= 0.5;
  }
  const std::string exact = "rubric_set=\"exact\",policy_version=\"none\"";
  EXPECT_EQ(
      api_->WaitForValue("rewardd_grades_total{" + exact + ",result=\"valid\"}",
                         all.size()),
      all.size());
  EXPECT_EQ(
      api_->Value("rewardd_grades_total{" + exact + ",result=\"invalid\"}"), 0);
  EXPECT_EQ(api_->Value("rewardd_reward_count{" + exact + "}"), all.size());
  EXPECT_NEAR(api_->Value("rewardd_reward_sum{" + exact + "}"), sum,
              kTolerance);
  EXPECT_EQ(api_->Value("rewardd_reward_bucket{" + exact + ",le=\"0.5\"}"),
            at_most_half);
  EXPECT_EQ(api_->Value("rewardd_reward_tail_total{" + exact + "}"), tail);
  EXPECT_EQ(api_->Value("rewardd_reward_tail_threshold"), 0.9);

  // Serving: every Grade call, the group and the NOT_FOUND.
  const int grades = all.size() + kPolicyVersions;
  EXPECT_EQ(
      api_->WaitForValue(
          "rewardd_requests_total{method=\"Grade\",code=\"NOT_FOUND\"}", 1),
      1);
  EXPECT_EQ(api_->Value("rewardd_requests_total{method=\"Grade\",code=\"OK\"}"),
            grades);
  EXPECT_EQ(
      api_->Value("rewardd_requests_total{method=\"GradeGroup\",code=\"OK\"}"),
      1);
  EXPECT_EQ(api_->Value("rewardd_group_size_sum"), kGroupSize);
  EXPECT_EQ(api_->Value("rewardd_request_duration_seconds_count{method="
                        "\"Grade\"}"),
            grades + 1);

  // The embedded judge: one local call per graded response, every verdict
  // OK (4 criteria on "exact", 2 inline).
  const int graded = grades + kGroupSize;
  EXPECT_EQ(api_->Value("rewardd_judge_calls_total{judge=\"embedded\","
                        "replica=\"local\",outcome=\"ok\"}"),
            graded);
  EXPECT_EQ(api_->Value("rewardd_judge_verdicts_total{judge=\"embedded\","
                        "status=\"ok\"}"),
            all.size() * 4 + (kPolicyVersions + kGroupSize) * 2);

  // The rubric store, with the version the API reports.
  EXPECT_EQ(api_->Value("rewardd_rubric_sets"), 1);
  EXPECT_EQ(api_->Value("rewardd_rubric_set_criteria{rubric_set=\"exact\"}"),
            4);
  absl::StatusOr<pb::ListRubricSetsResponse> sets = client_->ListRubricSets();
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->sets_size(), 1);
  EXPECT_EQ(api_->Value(absl::StrCat(
                "rewardd_rubric_set_info{rubric_set=\"exact\",version=\"",
                sets->sets(0).version(), "\",format=\"rewardd\"}")),
            1);
  EXPECT_EQ(api_->Value("rewardd_rubric_reloads_total{result=\"failure\"}"), 0);
  EXPECT_EQ(api_->Value("up{job=\"rewardd\"}"), 1);
}

TEST_F(PrometheusTest, RecordingRulesGiveTheExpectedValues) {
  std::vector<double> all = Rewards(kReferencePhase);
  for (double r : Rewards(kRecentPhase)) all.push_back(r);
  double sum = 0, tail = 0;
  for (double r : all) {
    sum += r;
    tail += r >= 0.9;
  }
  const std::string exact = "{rubric_set=\"exact\",policy_version=\"none\"}";
  EXPECT_NEAR(api_->WaitForValue(
                  "rubric_set_policy_version:rewardd_reward:mean5m" + exact,
                  sum / all.size()),
              sum / all.size(), kTolerance);
  EXPECT_NEAR(
      api_->WaitForValue(
          "rubric_set_policy_version:rewardd_reward_tail:ratio_rate5m" + exact,
          tail / all.size()),
      tail / all.size(), kTolerance);
  EXPECT_EQ(api_->WaitForValue(
                "rubric_set:rewardd_grades_invalid:ratio_rate5m{rubric_set="
                "\"exact\"}",
                0),
            0);
  // Pass rate per axis: alpha is in every response, delta in a quarter.
  for (const char axis : {'a', 'b', 'c', 'd'}) {
    const std::string letter[] = {"alpha", "beta", "gamma", "delta"};
    double met = 0;
    for (const auto* phase : {&kReferencePhase, &kRecentPhase}) {
      for (const auto& [text, reward] : *phase) {
        if (text.find(letter[axis - 'a']) != std::string::npos) {
          met += kPerResponse;
        }
      }
    }
    const std::string expr = absl::StrCat(
        "rubric_set_policy_version_tag:rewardd_criterion_pass:ratio_rate5m{"
        "rubric_set=\"exact\",policy_version=\"none\",tag=\"axis:",
        std::string(1, axis), "\"}");
    EXPECT_NEAR(api_->WaitForValue(expr, met / all.size()), met / all.size(),
                kTolerance)
        << expr;
  }
  EXPECT_EQ(api_->WaitForValue(
                "judge:rewardd_judge_verdicts_failed:ratio_rate5m{judge="
                "\"embedded\"}",
                0),
            0);
  // No alert fires on healthy traffic.
  absl::StatusOr<nlohmann::json> alerts = api_->Query("ALERTS");
  ASSERT_TRUE(alerts.ok());
  EXPECT_THAT(*alerts, IsEmpty());
}

// The one GradeGroup call (inline rubric, every response meets both
// criteria) ties at the max reward with zero variance; the sets it did not
// touch stay at 0.
TEST_F(PrometheusTest, SaturationSeriesAndRecordingRules) {
  const std::string inline_set = "{rubric_set=\"_inline\"}";
  EXPECT_EQ(api_->WaitForValue("rewardd_groups_graded_total" + inline_set, 1),
            1);
  EXPECT_EQ(api_->Value("rewardd_groups_tied_at_max_total" + inline_set), 1);
  EXPECT_EQ(api_->Value("rewardd_groups_zero_variance_total" + inline_set), 1);
  EXPECT_EQ(api_->Value("rewardd_group_responses_at_max_total" + inline_set),
            kGroupSize);
  EXPECT_EQ(api_->Value("rewardd_groups_graded_total{rubric_set=\"exact\"}"),
            0);
  EXPECT_NEAR(
      api_->WaitForValue(
          "rubric_set:rewardd_groups_tied_at_max:ratio_rate15m" + inline_set,
          1),
      1, kTolerance);
  EXPECT_NEAR(api_->WaitForValue(
                  "rubric_set:rewardd_group_responses_at_max:ratio_rate15m" +
                      inline_set,
                  1),
              1, kTolerance);
  EXPECT_EQ(api_->WaitForValue(
                "count(rewardd_rubric_saturation_score" + inline_set + ")", 1),
            1);
}

TEST_F(PrometheusTest, DriftGaugesCompareTheWindows) {
  const std::vector<double> ref = Rewards(kReferencePhase);
  const std::vector<double> win = Rewards(kRecentPhase);
  double ref_mean = 0, win_mean = 0;
  for (double r : ref) ref_mean += r / ref.size();
  for (double r : win) win_mean += r / win.size();
  const std::string set = "{rubric_set=\"exact\"}";
  EXPECT_EQ(
      api_->WaitForValue("rewardd_reward_drift_window_samples" + set, kWindow),
      kWindow);
  EXPECT_EQ(api_->Value("rewardd_reward_drift_reference_samples" + set),
            kWindow);
  EXPECT_NEAR(api_->Value("rewardd_reward_drift_mean_shift" + set),
              win_mean - ref_mean, kTolerance);
  // Every recent reward is above every reference reward.
  EXPECT_EQ(api_->Value("rewardd_reward_drift_ks_statistic" + set), 1.0);
  EXPECT_NEAR(api_->Value("rewardd_reward_drift_psi" + set),
              ExpectedPsi(ref, win), kTolerance);
  EXPECT_LT(api_->Value("rewardd_reward_drift_ks_p_value" + set), 1e-6);
  EXPECT_NEAR(
      api_->WaitForValue("rubric_set:rewardd_reward_drift_psi:max" + set,
                         ExpectedPsi(ref, win)),
      ExpectedPsi(ref, win), kTolerance);
}

TEST_F(PrometheusTest, PolicyVersionLabelsStayBounded) {
  const std::string inline_set = "rewardd_grades_total{rubric_set=\"_inline\"}";
  EXPECT_EQ(api_->WaitForValue("sum(" + inline_set + ")",
                               kPolicyVersions + kGroupSize),
            kPolicyVersions + kGroupSize);
  std::set<std::string> expected = {"none", "other"};
  for (int i = 0; i < kPolicyVersionLimit; ++i) {
    expected.insert(absl::StrCat("ckpt-", i));
  }
  EXPECT_EQ(api_->LabelValues("policy_version", "{__name__=~\"rewardd_.+\"}"),
            expected);
  // ckpt-0 got its Grade and the group; the rest went to "other".
  EXPECT_EQ(api_->Value("rewardd_grades_total{rubric_set=\"_inline\","
                        "policy_version=\"ckpt-0\",result=\"valid\"}"),
            1 + kGroupSize);
  EXPECT_EQ(api_->Value("rewardd_grades_total{rubric_set=\"_inline\","
                        "policy_version=\"other\",result=\"valid\"}"),
            kPolicyVersions - kPolicyVersionLimit);
}

TEST_F(PrometheusTest, PromtoolFindsNoProblemInMetrics) {
  httplib::Client http("127.0.0.1", metrics_port_);
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  int exit_code = -1;
  const std::string out =
      RunPromtoolCheckMetrics(res->body, dir_->path(), &exit_code);
  EXPECT_EQ(exit_code, 0) << out;
  EXPECT_EQ(out, "");
}

TEST_F(PrometheusTest, EveryDashboardQueryEvaluates) {
  nlohmann::json dashboard = nlohmann::json::parse(
      ReadFile(kSource + "/deploy/grafana/rewardd-dashboard.json"), nullptr,
      false);
  ASSERT_FALSE(dashboard.is_discarded());
  std::vector<std::string> exprs;
  std::function<void(const nlohmann::json&)> walk =
      [&](const nlohmann::json& panels) {
        for (const auto& p : panels) {
          if (p.contains("panels")) walk(p["panels"]);
          for (const auto& t : p.value("targets", nlohmann::json::array())) {
            if (t.contains("expr")) exprs.push_back(t["expr"]);
          }
        }
      };
  walk(dashboard["panels"]);
  ASSERT_GE(exprs.size(), 15u);
  int with_data = 0;
  for (const std::string& raw : exprs) {
    const std::string expr =
        absl::StrReplaceAll(raw, {{"$__rate_interval", "1m"},
                                  {"$rubric_set", ".+"},
                                  {"$policy_version", ".+"},
                                  {"$judge", ".+"},
                                  {"$job", "rewardd"}});
    absl::StatusOr<nlohmann::json> r = api_->Query(expr);
    ASSERT_TRUE(r.ok()) << r.status();
    with_data += !r->empty();
  }
  // Judge-pool panels (queue, breakers) have no data with only the
  // embedded judge; everything about rewards and serving must.
  EXPECT_GE(with_data * 10, static_cast<int>(exprs.size()) * 7)
      << with_data << " of " << exprs.size();
}

// Not through Prometheus: the baseline file written at shutdown is the next
// run's drift reference.
TEST(DriftBaselineRestartTest, ReferenceSurvivesARestart) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/rubrics");
  dir.Write("rubrics/exact.json", kExactSet);
  const std::string baseline = dir.path() + "/drift.json";
  auto start = [&]() {
    auto p = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--rubric_dir=" + dir.path() + "/rubrics", "--rubric_poll_seconds=0",
        "--metrics_listen=127.0.0.1:0",
        "--metrics_port_file=" + dir.path() + "/metrics_port",
        "--drift_reference_size=5", "--drift_window=5",
        "--drift_baseline_file=" + baseline, "--drift_save_baseline=reference",
        "--drain_grace_seconds=0", "--drain_seconds=2"});
    EXPECT_TRUE(p->Start().ok()) << p->Log();
    return p;
  };
  auto grade = [](RewarddProcess& p, const std::string& text, int n) {
    RewardClient::Options options;
    options.target = p.address();
    auto client = RewardClient::Create(options);
    ASSERT_TRUE(client.ok());
    for (int i = 0; i < n; ++i) {
      pb::GradeRequest req;
      req.set_rubric_set("exact");
      req.set_rubric_id("four");
      req.set_response(text);
      ASSERT_TRUE((*client)->Grade(req).ok());
    }
  };
  {
    std::unique_ptr<RewarddProcess> first = start();
    grade(*first, "alpha", 5);  // reference: five rewards of 0.25
    first->Signal(SIGTERM);
    ASSERT_EQ(first->Wait(), 0) << first->Log();
  }
  nlohmann::json saved =
      nlohmann::json::parse(ReadFile(baseline), nullptr, false);
  ASSERT_FALSE(saved.is_discarded()) << ReadFile(baseline);
  EXPECT_EQ(saved["sets"]["exact"],
            nlohmann::json(std::vector<double>(5, 0.25)));

  std::unique_ptr<RewarddProcess> second = start();
  grade(*second, "alpha beta gamma delta", 5);
  httplib::Client http("127.0.0.1",
                       std::stoi(ReadFile(dir.path() + "/metrics_port")));
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  // Against the saved reference, five rewards of 1.0 are a shift of 0.75.
  EXPECT_THAT(
      res->body,
      ::testing::HasSubstr(
          "rewardd_reward_drift_mean_shift{rubric_set=\"exact\"} 0.75"));
  EXPECT_THAT(res->body,
              ::testing::HasSubstr("rewardd_reward_drift_reference_mean{"
                                   "rubric_set=\"exact\"} 0.25"));
}

}  // namespace
}  // namespace rewardd
