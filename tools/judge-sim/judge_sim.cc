#include "tools/judge-sim/judge_sim.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "tools/judge-sim/prefix_tracker.h"
#include "tools/judge-sim/sim_fence.h"
#include "tools/judge-sim/sim_proposer.h"

namespace rewardd {
namespace {

uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t HashText(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return Mix(h);
}

double Unit(uint64_t h) { return (h >> 11) * (1.0 / 9007199254740992.0); }

bool ContainsIgnoreCase(absl::string_view haystack, absl::string_view needle) {
  if (needle.empty()) return true;
  auto it =
      std::search(haystack.begin(), haystack.end(), needle.begin(),
                  needle.end(), [](char a, char b) {
                    return absl::ascii_tolower(a) == absl::ascii_tolower(b);
                  });
  return it != haystack.end();
}

enum class Fault {
  kNone,
  k429,
  k500,
  kHang,
  kReset,
  kGarbage,
  kTruncate,
  kThink
};

Fault FaultFromName(absl::string_view name) {
  if (name == "429") return Fault::k429;
  if (name == "500") return Fault::k500;
  if (name == "hang") return Fault::kHang;
  if (name == "reset") return Fault::kReset;
  if (name == "garbage") return Fault::kGarbage;
  if (name == "truncate") return Fault::kTruncate;
  if (name == "think") return Fault::kThink;
  return Fault::kNone;
}

// The answer text with per-token logprobs, built piece by piece so the
// tokens concatenate to exactly the content.
struct Answer {
  std::string content;
  nlohmann::json tokens = nlohmann::json::array();
  int top = 0;

  void Text(absl::string_view s) {
    content.append(s.data(), s.size());
    // Split plain text into short tokens, like a tokenizer would.
    for (size_t i = 0; i < s.size(); i += 4) {
      const std::string t(s.substr(i, 4));
      nlohmann::json tok = {{"token", t}, {"logprob", -0.0001}};
      if (top > 0) {
        tok["top_logprobs"] =
            nlohmann::json::array({{{"token", t}, {"logprob", -0.0001}}});
      }
      tokens.push_back(std::move(tok));
    }
  }
  void Verdict(bool met, bool boolean, double p) {
    const std::string yes = boolean ? "true" : "yes";
    const std::string no = boolean ? "false" : "no";
    const std::string& chosen = met ? yes : no;
    const std::string& other = met ? no : yes;
    content += chosen;
    nlohmann::json tok = {{"token", chosen}, {"logprob", std::log(p)}};
    if (top > 0) {
      nlohmann::json alts = nlohmann::json::array();
      alts.push_back({{"token", chosen}, {"logprob", std::log(p)}});
      if (top > 1) {
        alts.push_back({{"token", other}, {"logprob", std::log(1 - p)}});
      }
      tok["top_logprobs"] = std::move(alts);
    }
    tokens.push_back(std::move(tok));
  }
};

}  // namespace

std::string SimStats::ToJson() const {
  nlohmann::json j = {
      {"calls", calls},
      {"completed", completed},
      {"concurrent_peak", concurrent_peak},
      {"prompt_bytes", prompt_bytes},
      {"prefix_reused_bytes", prefix_reused_bytes},
      {"prefix_reuse_share", prefix_reuse_share()},
      {"modes", {{"all_in_one", all_in_one}, {"per_criterion", per_criterion}}},
      {"verdicts", {{"met", verdicts_met}, {"unmet", verdicts_unmet}}},
      {"oracle_hits", oracle_hits},
      {"proposer",
       {{"calls", proposer_calls},
        {"scripted", proposer_scripted},
        {"oracle", proposer_oracle},
        {"unmatched", proposer_unmatched}}},
      {"sampled", {{"calls", sampled_calls}, {"flips", sampled_flips}}},
      {"faults",
       {{"429", faults_429},
        {"500", faults_500},
        {"hang", faults_hang},
        {"reset", faults_reset},
        {"garbage", faults_garbage},
        {"truncate", faults_truncate},
        {"think", faults_think}}}};
  return j.dump();
}

SimRequest ParseSimRequest(absl::string_view all_text) {
  SimRequest r;
  r.per_criterion = absl::StrContains(all_text, "criteria_met");
  std::string rest(all_text);
  size_t b = 0, e = 0;
  absl::string_view inner;
  if (FindFence(rest, "response", &b, &e, &inner)) {
    r.has_response = true;
    r.response = std::string(inner);
    rest.erase(b, e - b);
  }
  if (FindFence(rest, "prompt", &b, &e, &inner)) rest.erase(b, e - b);
  for (absl::string_view line : absl::StrSplit(rest, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (line.empty() || line[0] != '[') continue;
    const size_t close = line.find("] ");
    if (close == absl::string_view::npos || close < 2) continue;
    r.criteria.emplace_back(
        std::string(line.substr(1, close - 1)),
        std::string(absl::StripAsciiWhitespace(line.substr(close + 2))));
  }
  return r;
}

bool SimRuleVerdict(absl::string_view criterion, absl::string_view response) {
  // Rule 2: quoted terms.
  std::vector<absl::string_view> quoted;
  for (const char q : {'"', '\''}) {
    size_t pos = 0;
    while (true) {
      const size_t open = criterion.find(q, pos);
      if (open == absl::string_view::npos) break;
      // An apostrophe inside a word ("patient's") is not a quote.
      if (q == '\'' && open > 0 && absl::ascii_isalnum(criterion[open - 1])) {
        pos = open + 1;
        continue;
      }
      const size_t close = criterion.find(q, open + 1);
      if (close == absl::string_view::npos) break;
      if (close > open + 1)
        quoted.push_back(criterion.substr(open + 1, close - open - 1));
      pos = close + 1;
    }
  }
  if (!quoted.empty()) {
    for (absl::string_view term : quoted) {
      if (!ContainsIgnoreCase(response, term)) return false;
    }
    return true;
  }
  // Rule 3: half of the content words.
  int words = 0, found = 0;
  for (absl::string_view w :
       absl::StrSplit(criterion, absl::ByAnyChar(" \t\n,.;:()/+-\"'"),
                      absl::SkipEmpty())) {
    int letters = 0;
    for (char c : w) letters += absl::ascii_isalpha(c) ? 1 : 0;
    if (letters < 4) continue;
    ++words;
    if (ContainsIgnoreCase(response, w)) ++found;
  }
  return words > 0 && 2 * found >= words;
}

double SimConfidence(absl::string_view criterion) {
  return 0.75 + 0.24 * Unit(HashText(criterion));
}

bool SimSampledVerdict(bool verdict, absl::string_view criterion,
                       absl::string_view response, int64_t seed) {
  const uint64_t h = Mix(HashText(criterion) ^
                         Mix(HashText(response) + static_cast<uint64_t>(seed)));
  return Unit(h) < SimConfidence(criterion) ? verdict : !verdict;
}

class JudgeSim::Impl {
 public:
  explicit Impl(SimOptions options)
      : options_(std::move(options)),
        faults_(options_.faults),
        latency_mean_(options_.latency_mean),
        latency_jitter_(options_.latency_jitter),
        prefixes_(options_.prefix_memory_bytes) {}

  absl::Status LoadProposer() {
    absl::StatusOr<SimProposer> p = SimProposer::Load(options_.proposer_script);
    if (!p.ok()) return p.status();
    proposer_ = *std::move(p);
    return absl::OkStatus();
  }

  absl::Status LoadOracle() {
    if (options_.oracle_file.empty()) return absl::OkStatus();
    std::ifstream in(options_.oracle_file);
    if (!in) return absl::NotFoundError("cannot read " + options_.oracle_file);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.contains("responses") ||
        !j.contains("verdicts")) {
      return absl::InvalidArgumentError(
          options_.oracle_file + ": needs \"responses\" and \"verdicts\"");
    }
    for (const auto& [label, text] : j["responses"].items()) {
      if (!text.is_string()) continue;
      auto& table = oracle_[text.get<std::string>()];
      if (!j["verdicts"].contains(label)) continue;
      for (const auto& [criterion, v] : j["verdicts"][label].items()) {
        table[criterion] =
            v.is_boolean() ? v.get<bool>() : v.get<double>() != 0;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Listen() {
    const int threads =
        options_.threads > 0 ? options_.threads : 2 * options_.capacity + 8;
    server_.new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);
    };
    server_.set_keep_alive_max_count(100000);
    server_.set_keep_alive_timeout(5);
    server_.set_tcp_nodelay(true);
    server_.Post("/v1/chat/completions",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Handle(req, res);
                 });
    server_.Get("/stats",
                [this](const httplib::Request&, httplib::Response& res) {
                  res.set_content(Stats().ToJson(), "application/json");
                });
    server_.Post("/reset",
                 [this](const httplib::Request&, httplib::Response& res) {
                   ResetStats();
                   res.set_content("{}", "application/json");
                 });
    server_.Get("/v1/models", [this](const httplib::Request&,
                                     httplib::Response& res) {
      res.set_content(
          R"({"object":"list","data":[{"id":"judge-sim","object":"model"}]})",
          "application/json");
    });
    // cpp-httplib listens with a backlog of 5: a burst of connections would
    // overflow it and wait out a 1 s SYN retransmit. Keep the listening
    // socket and raise the backlog after bind (Linux honours a second
    // listen()).
    server_.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd_ = sock;
    });
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
    } else {
      port_ = server_.bind_to_port(options_.host, options_.port) ? options_.port
                                                                 : -1;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat(
          "judge-sim: cannot bind ", options_.host, ":", options_.port));
    }
    if (listen_fd_ >= 0) ::listen(listen_fd_, 4096);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return absl::OkStatus();
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

  SimStats Stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }
  void ResetStats() {
    absl::MutexLock lock(&mu_);
    stats_ = SimStats();
    fault_base_ = 0;
    prefixes_ = PrefixTracker(options_.prefix_memory_bytes);
  }
  void SetFaults(SimFaults f) {
    absl::MutexLock lock(&mu_);
    faults_ = std::move(f);
    fault_base_ = stats_.calls;  // fail_first counts from now
  }
  void SetLatency(absl::Duration mean, absl::Duration jitter) {
    absl::MutexLock lock(&mu_);
    latency_mean_ = mean;
    latency_jitter_ = jitter;
  }

 private:
  // Sleeps `d` unless the simulator stops first.
  void Wait(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopped_), d);
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("messages") ||
        !body["messages"].is_array()) {
      res.status = 400;
      res.set_content(
          R"({"error":{"message":"bad request","type":"invalid_request_error"}})",
          "application/json");
      return;
    }
    std::string all_text;
    for (const auto& m : body["messages"]) {
      if (m.contains("content") && m["content"].is_string()) {
        all_text += m["content"].get<std::string>();
        all_text += '\n';
      }
    }
    // Decide the fault and account the prompt.
    Fault fault = Fault::kNone;
    SimFaults faults;
    absl::Duration latency;
    int64_t arrival = 0;
    {
      absl::MutexLock lock(&mu_);
      faults = faults_;
      const int64_t n = stats_.calls++;
      arrival = n;
      stats_.prompt_bytes += all_text.size();
      stats_.prefix_reused_bytes += prefixes_.Add(all_text);
      if (n >= fault_base_ && n - fault_base_ < faults.fail_first) {
        fault = FaultFromName(faults.fail_first_kind);
      } else {
        double u = Unit(Mix(options_.seed * 0x100000001b3ull + n));
        const std::pair<double, Fault> table[] = {
            {faults.rate_429, Fault::k429},
            {faults.rate_500, Fault::k500},
            {faults.rate_hang, Fault::kHang},
            {faults.rate_reset, Fault::kReset},
            {faults.rate_garbage, Fault::kGarbage},
            {faults.rate_truncate, Fault::kTruncate},
            {faults.rate_think, Fault::kThink}};
        for (const auto& [rate, f] : table) {
          if (u < rate) {
            fault = f;
            break;
          }
          u -= rate;
        }
      }
      latency = latency_mean_;
      if (latency_jitter_ > absl::ZeroDuration()) {
        latency += latency_jitter_ *
                   (2 * Unit(Mix(options_.seed ^ (n * 0x9e37ull))) - 1);
      }
      switch (fault) {
        case Fault::k429:
          ++stats_.faults_429;
          break;
        case Fault::k500:
          ++stats_.faults_500;
          break;
        case Fault::kHang:
          ++stats_.faults_hang;
          break;
        case Fault::kReset:
          ++stats_.faults_reset;
          break;
        case Fault::kGarbage:
          ++stats_.faults_garbage;
          break;
        case Fault::kTruncate:
          ++stats_.faults_truncate;
          break;
        case Fault::kThink:
          ++stats_.faults_think;
          break;
        case Fault::kNone:
          break;
      }
    }
    if (fault == Fault::k429) {
      res.status = 429;
      res.set_header("Retry-After",
                     absl::StrCat(absl::ToDoubleSeconds(faults.retry_after)));
      res.set_content(
          R"({"error":{"message":"rate limited","type":"rate_limit_error"}})",
          "application/json");
      return;
    }
    if (fault == Fault::kHang) {
      Wait(faults.hang);
      res.status = 504;
      return;
    }
    // Service: hold one of `capacity` slots for the latency.
    {
      absl::MutexLock lock(&mu_);
      auto free_slot = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return in_service_ < options_.capacity || stopped_;
      };
      mu_.Await(absl::Condition(&free_slot));
      ++in_service_;
      stats_.concurrent_peak =
          std::max<int64_t>(stats_.concurrent_peak, in_service_);
    }
    if (latency > absl::ZeroDuration()) Wait(latency);
    {
      absl::MutexLock lock(&mu_);
      --in_service_;
    }
    if (fault == Fault::k500) {
      res.status = 500;
      res.set_content(
          R"({"error":{"message":"internal error","type":"server_error"}})",
          "application/json");
      return;
    }
    if (fault == Fault::kReset) {
      // Promise a body, then fail to write it: the connection is dropped.
      res.set_content_provider(
          1000, "application/json",
          [](size_t, size_t, httplib::DataSink&) { return false; });
      return;
    }
    Respond(body, all_text, fault, faults, arrival, res);
  }

  void Respond(const nlohmann::json& body, const std::string& all_text,
               Fault fault, const SimFaults& faults, int64_t arrival,
               httplib::Response& res) {
    if (SimProposer::IsProposerRequest(body.value("model", std::string()),
                                       all_text)) {
      RespondProposer(body, all_text, fault, faults, res);
      return;
    }
    const SimRequest request = ParseSimRequest(all_text);
    // Sampling: temperature > 0 draws from the verdict's distribution.
    const nlohmann::json* temperature =
        body.contains("temperature") ? &body["temperature"] : nullptr;
    const bool sampled = options_.sample && temperature != nullptr &&
                         temperature->is_number() &&
                         temperature->get<double>() > 0;
    int64_t seed = arrival;
    if (body.contains("seed") && body["seed"].is_number_integer()) {
      seed = body["seed"].get<int64_t>();
    }
    int flips = 0;
    const bool want_logprobs = body.value("logprobs", false);
    // `n` choices (the API's n, for votes): choice k samples with seed + k,
    // so the choices of one sampled request differ as real samples do.
    int n = 1;
    if (body.contains("n") && body["n"].is_number_integer()) {
      n = static_cast<int>(
          std::clamp<int64_t>(body["n"].get<int64_t>(), 1, 64));
    }
    if (faults.max_choices > 0) n = std::min(n, faults.max_choices);
    nlohmann::json choices = nlohmann::json::array();
    size_t completion_bytes = 0;
    int met_count = 0, unmet_count = 0, oracle_hits = 0;
    for (int k = 0; k < n; ++k) {
      const int64_t choice_seed = seed + k;
      Answer a;
      a.top = want_logprobs ? std::max(1, body.value("top_logprobs", 0)) : 0;
      std::string reasoning;
      if (fault == Fault::kThink) {
        const std::string think =
            "<think>\nLet me check each criterion. A first draft would be "
            "{\"criteria_met\": false, \"c1\": \"no\"} but I should read the "
            "response again.\n</think>\n";
        if (faults.think_in_reasoning_content) {
          reasoning = think.substr(7, think.size() - 7 - 10);
        } else {
          a.Text(think);
        }
      }
      const auto* oracle =
          [&]() -> const absl::flat_hash_map<std::string, bool>* {
        auto it = oracle_.find(request.response);
        return it == oracle_.end() ? nullptr : &it->second;
      }();
      auto decide = [&](const std::string& text) {
        if (oracle != nullptr) {
          auto it = oracle->find(text);
          if (it != oracle->end()) {
            ++oracle_hits;
            return it->second;
          }
        }
        return SimRuleVerdict(text, request.response);
      };
      // The answered verdict and the probability its token gets.
      auto answer = [&](const std::string& text, double* p) {
        const bool verdict = decide(text);
        *p = SimConfidence(text);
        if (!sampled) return verdict;
        const bool drawn =
            SimSampledVerdict(verdict, text, request.response, choice_seed);
        if (drawn != verdict) {
          ++flips;
          *p = 1 - *p;
        }
        return drawn;
      };
      if (fault == Fault::kGarbage) {
        a.Text(
            "The response is thorough and well organised; overall I would "
            "rate it highly.");
      } else if (request.per_criterion) {
        const std::string text =
            request.criteria.empty() ? "" : request.criteria.back().second;
        double p = 0;
        const bool met = answer(text, &p);
        (met ? met_count : unmet_count)++;
        a.Text("{\"criteria_met\": ");
        a.Verdict(met, true, p);
        a.Text(absl::StrCat(
            ", \"explanation\": \"simulated: ",
            met ? "the response meets it" : "not found in the response",
            "\"}"));
      } else {
        a.Text("{");
        for (size_t i = 0; i < request.criteria.size(); ++i) {
          const auto& [id, text] = request.criteria[i];
          double p = 0;
          const bool met = answer(text, &p);
          (met ? met_count : unmet_count)++;
          a.Text(absl::StrCat(i > 0 ? ", " : "", "\"", id, "\": \""));
          a.Verdict(met, false, p);
          a.Text("\"");
        }
        a.Text("}");
      }
      std::string finish = "stop";
      // max_tokens: ~4 bytes a token, as a budget the answer must fit in.
      const int64_t max_tokens = body.value("max_tokens", int64_t{0});
      size_t keep = a.content.size();
      if (fault == Fault::kTruncate) keep = a.content.size() / 2;
      if (max_tokens > 0) keep = std::min<size_t>(keep, max_tokens * 4);
      if (keep < a.content.size()) {
        finish = "length";
        a.content.resize(keep);
        // Drop tokens past the cut (and the one it splits).
        nlohmann::json kept = nlohmann::json::array();
        size_t pos = 0;
        for (auto& t : a.tokens) {
          const size_t len = t["token"].get<std::string>().size();
          if (pos + len > keep) break;
          pos += len;
          kept.push_back(std::move(t));
        }
        a.content.resize(pos);
        a.tokens = std::move(kept);
      }
      nlohmann::json message = {{"role", "assistant"}, {"content", a.content}};
      if (!reasoning.empty()) message["reasoning_content"] = reasoning;
      nlohmann::json choice = {
          {"index", 0}, {"message", message}, {"finish_reason", finish}};
      if (want_logprobs) choice["logprobs"] = {{"content", a.tokens}};
      choice["index"] = k;
      completion_bytes += a.content.size();
      choices.push_back(std::move(choice));
    }
    nlohmann::json out = {
        {"id", "chatcmpl-sim"},
        {"object", "chat.completion"},
        {"created", absl::ToUnixSeconds(absl::Now())},
        {"model", body.value("model", std::string("judge-sim"))},
        {"choices", std::move(choices)},
        {"usage",
         {{"prompt_tokens", all_text.size() / 4},
          {"completion_tokens", completion_bytes / 4},
          {"total_tokens", all_text.size() / 4 + completion_bytes / 4}}}};
    res.set_content(out.dump(), "application/json");
    absl::MutexLock lock(&mu_);
    ++stats_.completed;
    (request.per_criterion ? stats_.per_criterion : stats_.all_in_one)++;
    stats_.verdicts_met += met_count;
    stats_.verdicts_unmet += unmet_count;
    stats_.oracle_hits += oracle_hits;
    if (sampled) ++stats_.sampled_calls;
    stats_.sampled_flips += flips;
  }

  // A proposer call's answer, with the content faults applied (garbage
  // replaces it, think prefixes a block with a decoy list, truncate and
  // max_tokens cut it with finish_reason "length").
  void RespondProposer(const nlohmann::json& body, const std::string& all_text,
                       Fault fault, const SimFaults& faults,
                       httplib::Response& res) {
    SimProposer::Answer answer = proposer_.Respond(all_text);
    std::string content = std::move(answer.content);
    std::string reasoning;
    if (fault == Fault::kGarbage) {
      content = "Both responses are excellent; I would not change the rubric.";
    } else if (fault == Fault::kThink) {
      const std::string think =
          "<think>\nA first draft: [{\"criterion\": \"draft\", "
          "\"weight\": 1}] - no, compare the responses again.\n</think>\n";
      if (faults.think_in_reasoning_content) {
        reasoning = think.substr(7, think.size() - 7 - 10);
      } else {
        content = think + content;
      }
    }
    std::string finish = "stop";
    size_t keep = content.size();
    if (fault == Fault::kTruncate) keep = content.size() / 2;
    const int64_t max_tokens = body.value("max_tokens", int64_t{0});
    if (max_tokens > 0) keep = std::min<size_t>(keep, max_tokens * 4);
    if (keep < content.size()) {
      content.resize(keep);
      finish = "length";
    }
    nlohmann::json message = {{"role", "assistant"}, {"content", content}};
    if (!reasoning.empty()) message["reasoning_content"] = reasoning;
    nlohmann::json out = {
        {"id", "chatcmpl-sim-proposer"},
        {"object", "chat.completion"},
        {"created", absl::ToUnixSeconds(absl::Now())},
        {"model", body.value("model", std::string("judge-sim"))},
        {"choices",
         {{{"index", 0}, {"message", message}, {"finish_reason", finish}}}},
        {"usage",
         {{"prompt_tokens", all_text.size() / 4},
          {"completion_tokens", content.size() / 4},
          {"total_tokens", (all_text.size() + content.size()) / 4}}}};
    res.set_content(
        out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "application/json");
    absl::MutexLock lock(&mu_);
    ++stats_.completed;
    ++stats_.proposer_calls;
    switch (answer.kind) {
      case SimProposer::Kind::kScripted:
        ++stats_.proposer_scripted;
        break;
      case SimProposer::Kind::kOracle:
        ++stats_.proposer_oracle;
        break;
      case SimProposer::Kind::kUnmatched:
        ++stats_.proposer_unmatched;
        break;
    }
  }

  const SimOptions options_;
  SimProposer proposer_;
  // response text -> criterion text -> verdict; read-only after start.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, bool>>
      oracle_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  int listen_fd_ = -1;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  SimFaults faults_ ABSL_GUARDED_BY(mu_);
  int64_t fault_base_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration latency_mean_ ABSL_GUARDED_BY(mu_);
  absl::Duration latency_jitter_ ABSL_GUARDED_BY(mu_);
  int in_service_ ABSL_GUARDED_BY(mu_) = 0;
  SimStats stats_ ABSL_GUARDED_BY(mu_);
  PrefixTracker prefixes_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<JudgeSim>> JudgeSim::Start(SimOptions options) {
  if (options.capacity <= 0) {
    return absl::InvalidArgumentError("judge-sim: capacity must be positive");
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->LoadOracle(); !s.ok()) return s;
  if (absl::Status s = impl->LoadProposer(); !s.ok()) return s;
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<JudgeSim>(new JudgeSim(std::move(impl)));
}

JudgeSim::JudgeSim(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JudgeSim::~JudgeSim() { Stop(); }
int JudgeSim::port() const { return impl_->port(); }
std::string JudgeSim::base_url() const {
  return absl::StrCat("http://127.0.0.1:", impl_->port(), "/v1");
}
SimStats JudgeSim::stats() const { return impl_->Stats(); }
void JudgeSim::ResetStats() { impl_->ResetStats(); }
void JudgeSim::SetFaults(SimFaults faults) {
  impl_->SetFaults(std::move(faults));
}
void JudgeSim::SetLatency(absl::Duration mean, absl::Duration jitter) {
  impl_->SetLatency(mean, jitter);
}
void JudgeSim::Stop() { impl_->Stop(); }

}  // namespace rewardd
