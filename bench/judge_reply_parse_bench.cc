// Micro-benchmark: reading a judge's reply (ParseChatCompletion, on the HTTP
// loop's thread once per judge call) against nlohmann::json::parse of the
// same bytes, alternating round after round; prints ns per reply for each
// and their ratio. Replies: a per_criterion answer as judge-sim sends it
// (~370 bytes) and an all_in_one answer with logprobs for 20 criteria.
//
//   ninja -C build-perf judge-reply-parse-bench
//   build-perf/bench/judge-reply-parse-bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/chat_completion.h"

namespace {

std::string PerCriterionReply() {
  return R"({"id":"chatcmpl-sim","object":"chat.completion","created":1795708839,)"
         R"("model":"judge-sim","choices":[{"index":0,"message":{"role":"assistant",)"
         R"("content":"{\"met\": true, \"explanation\": \"simulated judge: the )"
         R"(response contains the quoted terms \\\"cavernous sinus\\\"\"}"},)"
         R"("finish_reason":"stop"}],"usage":{"prompt_tokens":612,)"
         R"("completion_tokens":31,"total_tokens":643}})";
}

std::string AllInOneReplyWithLogprobs() {
  nlohmann::json tokens = nlohmann::json::array();
  std::string content = "{";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&content, i ? ", " : "", "\"c", i, "\": \"yes\"");
    tokens.push_back({{"token", "yes"},
                      {"logprob", -0.01 * i},
                      {"top_logprobs",
                       {{{"token", "yes"}, {"logprob", -0.01 * i}},
                        {{"token", "no"}, {"logprob", -4.2}}}}});
  }
  content += "}";
  return nlohmann::json{
      {"id", "chatcmpl-1"},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", content}}},
         {"logprobs", {{"content", tokens}}},
         {"finish_reason", "stop"}}}},
      {"usage", {{"prompt_tokens", 2400}, {"completion_tokens", 140}}}}
      .dump();
}

template <typename F>
double NsPerCall(F&& f, int n) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) f();
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now() - start)
             .count() /
         n;
}

}  // namespace

int main() {
  size_t sink = 0;
  for (const auto& [name, reply] :
       {std::pair<const char*, std::string>{"per_criterion",
                                            PerCriterionReply()},
        {"all_in_one+logprobs", AllInOneReplyWithLogprobs()}}) {
    if (!rewardd::ParseChatCompletion(reply).ok()) {
      std::fprintf(stderr, "judge-reply-parse-bench: %s reply refused\n", name);
      return 1;
    }
    double best_ours = 1e18, best_dom = 1e18;
    for (int round = 0; round < 7; ++round) {
      best_ours = std::min(
          best_ours,
          NsPerCall(
              [&] {
                sink += rewardd::ParseChatCompletion(reply)->choices.size();
              },
              20000));
      best_dom = std::min(
          best_dom,
          NsPerCall([&] { sink += nlohmann::json::parse(reply).size(); },
                    20000));
    }
    std::printf(
        "%-20s %5zu bytes: ParseChatCompletion %7.0f ns, nlohmann::json::parse "
        "%7.0f ns, ratio %.2f\n",
        name, reply.size(), best_ours, best_dom, best_ours / best_dom);
  }
  return sink == 0;
}
