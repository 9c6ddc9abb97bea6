// Fuzz target: the judge HTTP codec (server/judge/http/chat_judge_codec.h).
// Two directions, both fed with untrusted bytes:
//  - decoding: the input is the body of a judge replica's HTTP response
//    (a misbehaving, overloaded or hostile server may send anything);
//    ParseChatCompletion and ChatJudgeCodec::Decode must turn it into one
//    verdict per criterion and never throw or crash;
//  - encoding: the input is also used as the graded response (written by the
//    policy being trained, i.e. adversarial): the request body must stay
//    valid JSON and the response must stay inside its fence.
//
//   fuzz/corpus/chat_completion/   seeds: Chat Completions bodies
//   scripts/fuzz.sh 60 chat_completion
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/http/prompt_template.h"
#include "server/judge/judge.h"

namespace rewardd {
namespace {

std::shared_ptr<const Rubric> MakeRubric() {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = "fuzz";
  rubric->prompt = "What is 2 + 2?";
  for (const char* id : {"c1", "c2", "3"}) {
    Criterion& c = rubric->criteria.emplace_back();
    c.id = id;
    c.text = absl::StrCat("criterion ", id);
  }
  return rubric;
}

const ChatJudgeCodec& Codec() {
  static const ChatJudgeCodec* codec = [] {
    HttpJudgeConfig config;
    config.name = "fuzz";
    config.model = "m";
    config.logprobs = true;
    return new ChatJudgeCodec(config, PromptTemplates::Default());
  }();
  return *codec;
}

// RFC 3629 UTF-8 (no overlongs, no surrogates): what proto3 string fields
// guarantee for a response that came in over gRPC.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void CheckDecoded(const DecodedCall& d, size_t n) {
  FUZZ_CHECK(d.verdicts.size() == n);
  if (d.outcome != DecodedCall::Outcome::kOk) FUZZ_CHECK(!d.error.empty());
  for (const Verdict& v : d.verdicts) {
    if (v.probability.has_value()) {
      FUZZ_CHECK(*v.probability >= 0 && *v.probability <= 1);
    }
    if (d.outcome != DecodedCall::Outcome::kOk) {
      FUZZ_CHECK(v.status == CriterionStatus::kOk ||
                 v.status == CriterionStatus::kParseError);
    }
  }
}

}  // namespace
}  // namespace rewardd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const std::shared_ptr<const Rubric> rubric = MakeRubric();
  const ChatJudgeCodec& codec = Codec();

  auto input = std::make_shared<GradeInput>();
  input->rubric = rubric;
  input->response = std::string(bytes);

  // Decoding a reply body.
  ParseChatCompletion(bytes).IgnoreError();
  const uint32_t all[] = {0, 1, 2};
  const uint32_t one[] = {1};
  CheckDecoded(codec.Decode(GradingMode::kAllInOne, *input, all, bytes), 3);
  CheckDecoded(codec.Decode(GradingMode::kChunked, *input, one, bytes), 1);
  CheckDecoded(codec.Decode(GradingMode::kPerCriterion, *input, one, bytes), 1);

  // Encoding a request for an adversarial response.
  const std::string tag = FenceTag("response", bytes);
  FUZZ_CHECK(bytes.find(tag) == absl::string_view::npos);
  std::string body;
  for (GradingMode mode :
       {GradingMode::kAllInOne, GradingMode::kPerCriterion}) {
    codec.EncodeBody(mode, input,
                     mode == GradingMode::kPerCriterion
                         ? absl::Span<const uint32_t>(one)
                         : absl::Span<const uint32_t>(all),
                     CallParams{}, &body);
    if (!IsValidUtf8(bytes)) continue;
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    FUZZ_CHECK(!j.is_discarded());
    const std::string user = j["messages"][1]["content"].get<std::string>();
    FUZZ_CHECK(user.find(absl::StrCat("<", tag, ">\n", bytes, "\n</", tag,
                                      ">")) != std::string::npos);
  }
  return 0;
}
