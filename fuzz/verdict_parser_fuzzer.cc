// Fuzz target: the judge verdict parser (server/judge/http/verdict_parser.h).
// Its input is whatever an LLM wrote, and the response being graded can steer
// the LLM into writing nearly anything, so this is the most exposed parser of
// the server. Every input runs through both answer forms (all_in_one object
// and per_criterion single verdict), each without log-probabilities, with
// tokens that spell the content exactly, and with tokens that carry an extra
// reasoning prefix (the content is then a suffix of the tokens).
//
//   fuzz/corpus/verdict_parser/   seeds: judge answers seen in practice
//   scripts/fuzz.sh 60 verdict_parser
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "server/judge/http/verdict_parser.h"

namespace rewardd {
namespace {

// Criterion ids as the rubric formats produce them.
const absl::string_view kIds[] = {"c1", "c2", "3", "accuracy", "safety-1"};

// A log-probability from one byte, including the values a broken server may
// send (JSON numbers that overflow to infinity, positive log-probabilities).
double LogprobFromByte(unsigned char b) {
  if (b == 0xff) return std::numeric_limits<double>::infinity();
  if (b == 0xfe) return -std::numeric_limits<double>::infinity();
  return (static_cast<int>(b) - 200) / 8.0;  // about -25 .. +7
}

// Splits `text` into tokens the way BPE tokenizers roughly do (runs of
// letters or digits of at most 4 bytes, single other bytes), each with a
// log-probability and alternatives derived from the bytes themselves.
std::vector<TokenLogprob> Tokenize(absl::string_view text) {
  std::vector<TokenLogprob> tokens;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = 1;
    while (i + n < text.size() && n < 4 &&
           absl::ascii_isalnum(static_cast<unsigned char>(text[i])) &&
           absl::ascii_isalnum(static_cast<unsigned char>(text[i + n]))) {
      ++n;
    }
    TokenLogprob& t = tokens.emplace_back();
    t.token = std::string(text.substr(i, n));
    const unsigned char b = static_cast<unsigned char>(text[i]);
    t.logprob = LogprobFromByte(b);
    switch (b % 4) {
      case 0:  // no alternatives reported
        break;
      case 1:
        t.top = {{t.token, t.logprob}, {"no", LogprobFromByte(b ^ 0x5a)}};
        break;
      case 2:
        t.top = {{" Yes", LogprobFromByte(b / 2)}, {"false", -0.5}};
        break;
      default:  // alternatives that do not list the chosen token
        t.top = {{"true", LogprobFromByte(b + 7)}, {"0", -3}};
    }
    i += n;
  }
  return tokens;
}

void CheckVerdicts(const VerdictParse& parse, size_t n) {
  FUZZ_CHECK(parse.verdicts.size() == n);
  FUZZ_CHECK(parse.unknown_ids >= 0);
  if (!parse.found) FUZZ_CHECK(!parse.error.empty());
  for (const ParsedVerdict& v : parse.verdicts) {
    if (v.probability.has_value()) {
      // P(met) feeds soft rewards: it must be a probability.
      FUZZ_CHECK(*v.probability >= 0 && *v.probability <= 1);
      FUZZ_CHECK(v.state == ParsedVerdict::State::kOk);
    }
  }
}

}  // namespace
}  // namespace rewardd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  const std::vector<TokenLogprob> exact = Tokenize(content);
  std::vector<TokenLogprob> prefixed = Tokenize("<think>let me see</think>");
  prefixed.insert(prefixed.end(), exact.begin(), exact.end());

  const absl::Span<const TokenLogprob> variants[] = {{}, exact, prefixed};
  for (absl::Span<const TokenLogprob> lp : variants) {
    CheckVerdicts(ParseVerdictObject(content, kIds, lp), std::size(kIds));
    CheckVerdicts(ParseSingleVerdict(content, lp), 1);
  }

  size_t offset = 0;
  const absl::string_view answer = StripThinking(content, &offset);
  FUZZ_CHECK(offset <= content.size());
  FUZZ_CHECK(answer.data() >= content.data() &&
             answer.data() + answer.size() <= content.data() + content.size());
  ParseVerdictWord(content);
  return 0;
}
