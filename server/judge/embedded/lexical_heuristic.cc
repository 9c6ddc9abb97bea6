#include "server/judge/embedded/lexical_heuristic.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/judge/embedded/number_scanner.h"
#include "server/judge/embedded/stemmer.h"
#include "server/judge/embedded/stop_words.h"
#include "server/util/utf8.h"

namespace rewardd {
namespace {

// ---------------------------------------------------------------------------
// Tokens.

struct Word {
  absl::string_view original;
  absl::string_view lowered;
  size_t letters;  // code points
};

bool IsAsciiUpperWord(absl::string_view original) {
  for (char c : original) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

// Calls on_word(const Word&) for each run of letters and on_number(double)
// for each number (unsigned: signs are not part of a key). `lowered` is
// LowerUtf8(text).
template <typename WordFn, typename NumberFn>
void Tokenize(absl::string_view text, absl::string_view lowered, WordFn on_word,
              NumberFn on_number) {
  size_t i = 0;
  const size_t n = text.size();
  // Whether the code point at `i` is a letter; sets its byte length.
  auto letter_at = [&](size_t at, size_t* len) {
    const unsigned char c = static_cast<unsigned char>(text[at]);
    if (c < 0x80) {
      *len = 1;
      return absl::ascii_isalpha(c);
    }
    char32_t cp;
    *len = DecodeUtf8(text, at, &cp);
    return IsLetter(cp);
  };
  while (i < n) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      std::optional<ScannedNumber> num = FindNumber(text, i);
      // FindNumber starts at the digit itself; the guard keeps the loop
      // moving even if that ever changed.
      if (num && num->begin == i && num->end > i) {
        on_number(std::fabs(num->value));
        i = num->end;
      } else {
        ++i;
      }
      continue;
    }
    size_t len;
    if (!letter_at(i, &len)) {
      i += len;
      continue;
    }
    const size_t begin = i;
    size_t letters = 0;
    do {
      ++letters;
      i += len;
    } while (i < n && letter_at(i, &len));
    on_word(Word{text.substr(begin, i - begin),
                 lowered.substr(begin, i - begin), letters});
  }
}

// A canonical spelling of a number so "1,000", "1000" and "1000.0" agree.
std::string NumberKey(double value) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.10g", value);
  return buf;
}

// Quoted text that names a party of the conversation, as in HealthBench's
// 'A non-health professional ("User") is conversing with a chat assistant
// ("Assistant")', is not a phrase the response should contain.
bool IsRoleLabel(absl::string_view lowered) {
  for (absl::string_view role : {"user", "assistant", "model", "chatbot", "ai",
                                 "system", "human", "bot"}) {
    if (lowered == role) return true;
  }
  return false;
}

constexpr size_t kMaxPhraseWords = 8;

void AddPhrase(absl::string_view raw, std::vector<std::string>& phrases) {
  absl::string_view p = absl::StripAsciiWhitespace(raw);
  while (!p.empty() &&
         (absl::ascii_ispunct(static_cast<unsigned char>(p.front())) ||
          absl::ascii_isspace(static_cast<unsigned char>(p.front())))) {
    p.remove_prefix(1);
  }
  while (!p.empty() &&
         (absl::ascii_ispunct(static_cast<unsigned char>(p.back())) ||
          absl::ascii_isspace(static_cast<unsigned char>(p.back())))) {
    p.remove_suffix(1);
  }
  if (p.empty()) return;
  size_t words = 0;
  bool in_word = false;
  for (char c : p) {
    const bool space = absl::ascii_isspace(static_cast<unsigned char>(c));
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  // Long quotes are example wording ("say something like '...'"), not text
  // that must appear verbatim; their words still count as keys.
  if (words > kMaxPhraseWords) return;
  std::string lowered = LowerUtf8(p);
  if (IsRoleLabel(lowered)) return;
  for (const std::string& existing : phrases) {
    if (existing == lowered) return;
  }
  phrases.push_back(std::move(lowered));
}

bool IsAlnumAt(absl::string_view s, size_t i) {
  return i < s.size() && absl::ascii_isalnum(static_cast<unsigned char>(s[i]));
}
bool IsSpaceAt(absl::string_view s, size_t i) {
  return i >= s.size() || absl::ascii_isspace(static_cast<unsigned char>(s[i]));
}

// Finds quoted spans. Symmetric ASCII '...' and the typographic ‘...’ need
// word boundaries outside and no space inside, so apostrophes ("patient's",
// "don’t") do not open or close quotes.
std::vector<std::string> ExtractPhrases(absl::string_view text) {
  struct Pair {
    absl::string_view open;
    absl::string_view close;
    bool apostrophe_like;
  };
  static constexpr Pair kPairs[] = {
      {"\"", "\"", false},
      {"\xE2\x80\x9C", "\xE2\x80\x9D", false},  // “ ”
      {"\xC2\xAB", "\xC2\xBB", false},          // « »
      {"'", "'", true},
      {"\xE2\x80\x98", "\xE2\x80\x99", true},  // ‘ ’
  };
  std::vector<std::string> phrases;
  size_t i = 0;
  while (i < text.size()) {
    // Every opening quote starts with one of these bytes; skip the rest
    // cheaply.
    const char c = text[i];
    if (c != '"' && c != '\'' && c != '\xE2' && c != '\xC2') {
      ++i;
      continue;
    }
    bool advanced = false;
    for (const Pair& p : kPairs) {
      if (text.compare(i, p.open.size(), p.open) != 0) continue;
      const size_t start = i + p.open.size();
      if (p.apostrophe_like && i > 0 && IsAlnumAt(text, i - 1)) continue;
      if (p.apostrophe_like && IsSpaceAt(text, start)) continue;
      size_t close = start;
      size_t found = absl::string_view::npos;
      while ((close = text.find(p.close, close)) != absl::string_view::npos) {
        if (!p.apostrophe_like ||
            (close > start && !IsSpaceAt(text, close - 1) &&
             !IsAlnumAt(text, close + p.close.size()))) {
          found = close;
          break;
        }
        close += p.close.size();
      }
      if (found == absl::string_view::npos) continue;
      AddPhrase(text.substr(start, found - start), phrases);
      i = found + p.close.size();
      advanced = true;
      break;
    }
    if (!advanced) ++i;
  }
  return phrases;
}

}  // namespace

std::string StemForTest(absl::string_view word) {
  std::string s = LowerUtf8(word);
  StemInPlace(s);
  return s;
}

CriterionProfile BuildCriterionProfile(absl::string_view criterion_text) {
  CriterionProfile profile;
  profile.phrases = ExtractPhrases(criterion_text);
  const auto& stop = StopStems();
  absl::flat_hash_set<std::string> seen;
  const std::string lowered = LowerUtf8(criterion_text);
  auto add_key = [&](std::string key) {
    if (seen.insert(key).second) profile.keys.push_back(std::move(key));
  };
  Tokenize(
      criterion_text, lowered,
      [&](const Word& w) {
        // Acronyms ("TSH", "ECG") are short but specific; other short words
        // are mostly function words.
        if (w.letters < 4 &&
            !(w.letters >= 2 && IsAsciiUpperWord(w.original))) {
          return;
        }
        std::string stem(w.lowered);
        StemInPlace(stem);
        if (stop.contains(stem)) return;
        add_key(std::move(stem));
      },
      [&](double value) { add_key(NumberKey(value)); });
  return profile;
}

ResponseIndex::ResponseIndex(absl::string_view response)
    : lowered_(LowerUtf8(response)) {
  // About one distinct key per 8 bytes of prose; saves rehashing.
  keys_.reserve(response.size() / 8 + 8);
  std::string stem;
  Tokenize(
      response, lowered_,
      [&](const Word& w) {
        if (w.letters < 2) return;
        stem.assign(w.lowered.data(), w.lowered.size());
        StemInPlace(stem);
        keys_.insert(stem);
      },
      [&](double value) { keys_.insert(NumberKey(value)); });
}

bool ResponseIndex::HasPhrase(absl::string_view lowered_phrase) const {
  return absl::StrContains(lowered_, lowered_phrase);
}

HeuristicResult EvaluateHeuristic(const CriterionProfile& profile,
                                  const ResponseIndex& response,
                                  const HeuristicOptions& options,
                                  bool explain) {
  HeuristicResult r;
  const size_t total = profile.phrases.size() + profile.keys.size();
  size_t found = 0;
  const std::string* missing_phrase = nullptr;
  for (const std::string& p : profile.phrases) {
    if (response.HasPhrase(p)) {
      ++found;
    } else if (missing_phrase == nullptr) {
      missing_phrase = &p;
    }
  }
  std::vector<const std::string*> missing_keys;
  for (const std::string& k : profile.keys) {
    if (response.HasKey(k)) {
      ++found;
    } else if (explain && missing_keys.size() < 5) {
      missing_keys.push_back(&k);
    }
  }
  r.coverage = total == 0 ? 0.0 : static_cast<double>(found) / total;
  r.met =
      total > 0 && missing_phrase == nullptr && r.coverage >= options.threshold;
  if (!explain) return r;
  if (total == 0) {
    r.explanation = "heuristic: criterion has no key terms; not met";
    return r;
  }
  r.explanation = absl::StrCat(
      "heuristic: ", found, "/", total, " key terms (",
      static_cast<int>(std::lround(r.coverage * 100)), "% ",
      r.coverage >= options.threshold ? ">=" : "<", " ",
      static_cast<int>(std::lround(options.threshold * 100)), "%)");
  if (missing_phrase != nullptr) {
    absl::StrAppend(&r.explanation, "; missing quoted '", *missing_phrase, "'");
  }
  if (!missing_keys.empty()) {
    absl::StrAppend(&r.explanation, "; missing:");
    for (const std::string* k : missing_keys) {
      absl::StrAppend(&r.explanation, " ", *k);
    }
  }
  return r;
}

HeuristicResult EvaluateHeuristic(absl::string_view criterion_text,
                                  absl::string_view response,
                                  const HeuristicOptions& options,
                                  bool explain) {
  return EvaluateHeuristic(BuildCriterionProfile(criterion_text),
                           ResponseIndex(response), options, explain);
}

}  // namespace rewardd
