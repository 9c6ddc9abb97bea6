#include "server/judge/embedded/lexical_heuristic.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/judge/embedded/number_scanner.h"

namespace rewardd {
namespace {

// ---------------------------------------------------------------------------
// UTF-8 and letters.

// Decodes the code point at `i`; returns its byte length (1 for a malformed
// byte, decoded as U+FFFD so it is never a letter).
size_t DecodeUtf8(absl::string_view s, size_t i, char32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  char32_t v;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07;
  } else {
    *cp = 0xFFFD;
    return 1;
  }
  if (i + len > s.size()) {
    *cp = 0xFFFD;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (cc & 0x3F);
  }
  *cp = v;
  return len;
}

// Letters: ASCII letters and every non-ASCII code point outside the common
// punctuation and symbol blocks. Without ICU this is an approximation that
// keeps Latin, Greek, Cyrillic, CJK, ... words together and splits on
// “quotes”, dashes, arrows, emoji and the like.
bool IsLetter(char32_t cp) {
  if (cp < 0x80) return absl::ascii_isalpha(static_cast<unsigned char>(cp));
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 symbols
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF20) return false;    // fullwidth punctuation
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji
  if (cp == 0xFFFD) return false;
  return true;
}

// Lowercase for the alphabets rubrics are written in; a length-preserving
// mapping (in UTF-8 bytes), so lowered text lines up with the original.
char32_t Lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xC0) return cp;
  if (cp <= 0xDE && cp != 0xD7) return cp + 32;                   // Latin-1
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;                 // Ѐ..Џ
  return cp;
}

// Lowercases `s`. The mapping preserves UTF-8 byte lengths, so offsets into
// the result are offsets into `s` (the tokenizer relies on it).
std::string LowerUtf8(absl::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size();) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      out[i] = absl::ascii_tolower(c);
      ++i;
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(out, i, &cp);
    const char32_t lower = Lower(cp);
    if (lower != cp) {
      // Every mapping in Lower() keeps the 2-byte UTF-8 length.
      if (len == 2 && lower < 0x800) {
        out[i] = static_cast<char>(0xC0 | (lower >> 6));
        out[i + 1] = static_cast<char>(0x80 | (lower & 0x3F));
      }
    }
    i += len;
  }
  return out;
}

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

bool IsAsciiLower(const std::string& s) {
  for (char c : s) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

// Crude English suffix stripping: enough to make inflections of one word
// meet ("recommends", "recommended", "recommendation"), far from Porter.
void StemInPlace(std::string& w) {
  if (!IsAsciiLower(w)) return;  // English rules only
  constexpr size_t kMinStem = 3;
  struct Rule {
    absl::string_view suffix;
    absl::string_view replacement;
    bool undouble;  // "stopping" -> "stopp" -> "stop"
  };
  static constexpr Rule kRules[] = {
      {"ization", "ize", false}, {"ations", "", false}, {"ation", "", false},
      {"ments", "", false},      {"ment", "", false},   {"ness", "", false},
      {"ings", "", true},        {"ing", "", true},     {"edly", "", true},
      {"ies", "y", false},       {"ied", "y", false},   {"ed", "", true},
      {"ly", "", false},
  };
  bool stripped = false;
  for (const Rule& r : kRules) {
    if (w.size() < r.suffix.size() + kMinStem || !absl::EndsWith(w, r.suffix)) {
      continue;
    }
    const char before = w[w.size() - r.suffix.size() - 1];
    if (r.suffix == "ed" && before == 'e') continue;  // "need", "bleed"
    if (r.suffix == "ly" && (before == 'i' || before == 'p')) continue;
    w.resize(w.size() - r.suffix.size());
    w.append(r.replacement.data(), r.replacement.size());
    if (r.undouble && w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] &&
        !absl::StrContains("aeioulsz", w.back())) {
      w.pop_back();
    }
    stripped = true;
    break;
  }
  if (!stripped && w.size() > kMinStem && w.back() == 's') {
    const absl::string_view head(w.data(), w.size() - 1);
    const bool sibilant_es =
        head.size() - 1 >= kMinStem &&
        (absl::EndsWith(head, "se") || absl::EndsWith(head, "xe") ||
         absl::EndsWith(head, "ze") || absl::EndsWith(head, "che") ||
         absl::EndsWith(head, "she"));
    if (sibilant_es) {
      w.resize(w.size() - 2);  // "glasses" -> "glass", "doses" -> "dos"
    } else if (!absl::EndsWith(w, "ss") && !absl::EndsWith(w, "us") &&
               !absl::EndsWith(w, "is")) {
      w.pop_back();  // "symptoms" -> "symptom"
    }
  }
  // A final silent 'e' goes so "provide" meets "provid(es|ed|ing)".
  if (w.size() >= 4 && w.back() == 'e' && w[w.size() - 2] != 'e') w.pop_back();
}

// Stopwords and rubric boilerplate, compared after stemming so every
// inflection is covered ("mentions", "mentioned" -> "mention").
const absl::flat_hash_set<std::string>& StopStems() {
  static const auto* const kStems = [] {
    auto* set = new absl::flat_hash_set<std::string>;
    for (absl::string_view w : {
             // English function words of >= 4 letters.
             "about",
             "above",
             "across",
             "after",
             "again",
             "against",
             "almost",
             "along",
             "already",
             "also",
             "although",
             "always",
             "among",
             "another",
             "anyone",
             "anything",
             "around",
             "because",
             "been",
             "before",
             "behind",
             "being",
             "below",
             "between",
             "beyond",
             "both",
             "cannot",
             "could",
             "does",
             "doing",
             "done",
             "down",
             "during",
             "each",
             "either",
             "else",
             "enough",
             "even",
             "ever",
             "every",
             "from",
             "further",
             "have",
             "having",
             "here",
             "herself",
             "himself",
             "however",
             "into",
             "itself",
             "just",
             "least",
             "less",
             "like",
             "likely",
             "many",
             "might",
             "more",
             "most",
             "much",
             "must",
             "myself",
             "need",
             "needs",
             "neither",
             "never",
             "none",
             "nothing",
             "often",
             "only",
             "other",
             "others",
             "otherwise",
             "over",
             "perhaps",
             "rather",
             "really",
             "same",
             "several",
             "shall",
             "should",
             "since",
             "some",
             "someone",
             "something",
             "such",
             "than",
             "that",
             "their",
             "theirs",
             "them",
             "themselves",
             "then",
             "there",
             "therefore",
             "these",
             "they",
             "this",
             "those",
             "though",
             "through",
             "throughout",
             "thus",
             "together",
             "toward",
             "towards",
             "under",
             "unless",
             "until",
             "upon",
             "very",
             "what",
             "whatever",
             "when",
             "whenever",
             "where",
             "whether",
             "which",
             "while",
             "whom",
             "whose",
             "will",
             "with",
             "within",
             "without",
             "would",
             "your",
             "yours",
             "yourself",
             "etc",
             // Rubric boilerplate: says how to judge, not what to look for.
             "response",
             "responses",
             "respond",
             "mentions",
             "mentioned",
             "states",
             "stated",
             "includes",
             "including",
             "included",
             "clearly",
             "provides",
             "provided",
             "providing",
             "explicitly",
             "specific",
             "specifically",
             "example",
             "examples",
             "appropriate",
             "appropriately",
             "correctly",
             "accurately",
             "properly",
             "adequately",
             "ensure",
             "ensures",
             "make",
             "makes",
             "sure",
             "user",
             "users",
             "assistant",
             "model",
             "chatbot",
             "criterion",
             "criteria",
             "rubric",
             "fails",
             "fail",
             "failing",
             "well",
             "able",
             "ability",
             "gives",
             "given",
             "give",
         }) {
      std::string s(w);
      StemInPlace(s);
      set->insert(std::move(s));
    }
    return set;
  }();
  return *kStems;
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
