#include "bench/request_source.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace rewardd::bench {

namespace {

uint64_t Mix(uint64_t x) {  // splitmix64: cheap and well spread
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t Mix3(uint64_t a, uint64_t b, uint64_t c) {
  return Mix(a ^ Mix(b ^ Mix(c)));
}

std::vector<std::string> MakeVocabulary(uint64_t seed) {
  // Pronounceable pseudo-words of 4-9 letters: realistic token lengths for
  // the heuristic judge and for prompt-size accounting, and no accidental
  // matches with the quoted criterion terms (those contain digits).
  static constexpr const char* kOnsets[] = {
      "b", "c", "d", "f", "g",  "h",  "l",  "m",  "n",  "p",
      "r", "s", "t", "v", "st", "tr", "pl", "gr", "ch", "sh"};
  static constexpr const char* kVowels[] = {"a", "e",  "i",  "o",
                                            "u", "ea", "ou", "io"};
  std::vector<std::string> words;
  for (int w = 0; w < 512; ++w) {
    uint64_t h = Mix3(seed, w, 0x766f63);
    const int syllables = 2 + static_cast<int>(h % 2);
    std::string word;
    for (int s = 0; s < syllables; ++s) {
      h = Mix(h);
      word += kOnsets[h % std::size(kOnsets)];
      word += kVowels[(h >> 8) % std::size(kVowels)];
    }
    if ((h >> 16) % 3 == 0) word += "n";
    words.push_back(std::move(word));
  }
  return words;
}

// Appends words from `vocabulary` chosen by (a, b) until `out` has `bytes`.
void Fill(const std::vector<std::string>& vocabulary, uint64_t a, uint64_t b,
          size_t bytes, std::string* out) {
  uint64_t h = Mix3(a, b, 0x66696c6c);
  int n = 0;
  while (out->size() < bytes) {
    h = Mix(h + n);
    if (!out->empty() && out->back() != '\n') {
      out->push_back(++n % 14 == 0 ? '\n' : ' ');
    }
    out->append(vocabulary[h % vocabulary.size()]);
  }
}

}  // namespace

std::string SynthTerm(int64_t prompt, int criterion) {
  return absl::StrCat("k", criterion, "q", prompt % 9973);
}

absl::StatusOr<std::unique_ptr<RequestSource>> RequestSource::Synthesize(
    const SynthOptions& options) {
  if (options.criteria <= 0 || options.criteria > 256) {
    return absl::InvalidArgumentError("criteria must be in [1, 256]");
  }
  if (options.group_size <= 0) {
    return absl::InvalidArgumentError("group_size must be positive");
  }
  if ((options.rubric == SynthOptions::RubricKind::kReference ||
       options.rubric == SynthOptions::RubricKind::kChecksByReference) &&
      options.rubric_set.empty()) {
    return absl::InvalidArgumentError("a rubric reference needs rubric_set");
  }
  if (options.rubric == SynthOptions::RubricKind::kReference &&
      options.rubric_count <= 0 && options.rubric_id.empty()) {
    return absl::InvalidArgumentError(
        "a rubric reference needs rubric_id or rubric_count");
  }
  std::unique_ptr<RequestSource> src(new RequestSource());
  src->options_ = options;
  src->synthesized_ = true;
  src->group_size_ = options.group_size;
  src->vocabulary_ = MakeVocabulary(options.seed);
  return src;
}

absl::StatusOr<std::unique_ptr<RequestSource>> RequestSource::FromJsonl(
    const std::string& path, bool group) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::unique_ptr<RequestSource> src(new RequestSource());
  std::string line;
  int line_no = 0;
  google::protobuf::util::JsonParseOptions json_options;
  while (std::getline(in, line)) {
    ++line_no;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    google::protobuf::util::Status s;
    if (group) {
      src->groups_.emplace_back();
      s = google::protobuf::util::JsonStringToMessage(
          line, &src->groups_.back(), json_options);
    } else {
      src->unary_.emplace_back();
      s = google::protobuf::util::JsonStringToMessage(line, &src->unary_.back(),
                                                      json_options);
    }
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", line_no, ": ", s.ToString()));
    }
  }
  if (src->unary_.empty() && src->groups_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " has no requests"));
  }
  src->group_size_ =
      group ? std::max(1, src->groups_.front().responses_size()) : 1;
  return src;
}

std::string RequestSource::Response(int64_t prompt, int member) const {
  if (options_.distinct_per_group > 0) member %= options_.distinct_per_group;
  // The header makes responses of different prompts or members distinct even
  // when their filler collides; the criterion terms decide the verdicts
  // (about 60% met, varying by prompt and member).
  std::string out = absl::StrCat("Response ", prompt, "-", member, ".");
  for (int k = 0; k < options_.criteria; ++k) {
    if (Mix3(prompt, member, k) % 10 < 6) {
      absl::StrAppend(&out, " ", SynthTerm(prompt, k));
    }
  }
  out += "\n";
  Fill(vocabulary_, prompt * 1000003 + member, options_.seed,
       static_cast<size_t>(options_.response_bytes), &out);
  return out;
}

void RequestSource::FillRubric(int64_t prompt,
                               reward::v1::GradeRequest* r) const {
  using RubricKind = SynthOptions::RubricKind;
  if (options_.rubric == RubricKind::kReference) {
    r->set_rubric_set(options_.rubric_set);
    if (options_.rubric_count > 0) {
      const uint64_t k = Mix3(options_.seed, prompt, 0x726964) %
                         static_cast<uint64_t>(options_.rubric_count);
      r->set_rubric_id(absl::StrCat(options_.rubric_id_prefix, k));
    } else {
      r->set_rubric_id(options_.rubric_id);
    }
    return;
  }
  if (options_.rubric == RubricKind::kChecksByReference) {
    r->set_rubric_set(options_.rubric_set);
    r->set_rubric_id(absl::StrCat("bench-", prompt));
    return;
  }
  std::string prompt_text = absl::StrCat("Question ", prompt, ": ");
  Fill(vocabulary_, prompt, options_.seed ^ 0x70726f6d,
       static_cast<size_t>(options_.prompt_bytes), &prompt_text);
  r->set_prompt(std::move(prompt_text));
  reward::v1::Rubric* rubric = r->mutable_rubric();
  rubric->set_id(absl::StrCat("bench-", prompt));
  for (int k = 0; k < options_.criteria; ++k) {
    reward::v1::Criterion* c = rubric->add_criteria();
    const std::string term = SynthTerm(prompt, k);
    c->set_id(absl::StrCat("c", k + 1));
    c->set_weight(1 + k % 3);
    if (options_.rubric == RubricKind::kInlineText) {
      c->set_text(absl::StrCat("The response mentions \"", term,
                               "\" and relates it to the question asked."));
      continue;
    }
    reward::v1::Check* check = c->mutable_check();
    switch (k % 6) {
      case 0:
        c->set_text(absl::StrCat("Mentions ", term, "."));
        check->set_kind(reward::v1::Check::CONTAINS);
        check->add_values(term);
        break;
      case 1:
        c->set_text(absl::StrCat("Names ", term, " as a whole word."));
        check->set_kind(reward::v1::Check::REGEX);
        check->set_pattern(absl::StrCat("\\b", term, "\\b"));
        break;
      case 2:
        c->set_text("Stays under 2000 words.");
        check->set_kind(reward::v1::Check::WORD_COUNT);
        check->set_max(2000);
        break;
      case 3:
        c->set_text(absl::StrCat("Does not say forbidden", k, "."));
        check->set_kind(reward::v1::Check::NOT_CONTAINS);
        check->add_values(absl::StrCat("forbidden", k));
        break;
      case 4:
        c->set_text("Opens with the response header.");
        check->set_kind(reward::v1::Check::STARTS_WITH);
        check->add_values("Response");
        break;
      default:
        c->set_text(absl::StrCat("Mentions ", term, " or its neighbour."));
        check->set_kind(reward::v1::Check::CONTAINS);
        check->set_match(reward::v1::Check::ANY);
        check->set_case_insensitive(true);
        check->add_values(term);
        check->add_values(SynthTerm(prompt, k + 1));
        break;
    }
  }
}

std::string RequestSource::RubricSetJsonl(int64_t prompt) const {
  SynthOptions inline_options = options_;
  inline_options.rubric = SynthOptions::RubricKind::kInlineChecks;
  RequestSource inline_source;
  inline_source.options_ = inline_options;
  inline_source.synthesized_ = true;
  inline_source.group_size_ = group_size_;
  inline_source.vocabulary_ = vocabulary_;
  reward::v1::GradeRequest r;
  inline_source.FillRubric(prompt, &r);
  nlohmann::json criteria = nlohmann::json::array();
  for (const reward::v1::Criterion& c : r.rubric().criteria()) {
    nlohmann::json check;
    const reward::v1::Check& k = c.check();
    switch (k.kind()) {
      case reward::v1::Check::CONTAINS:
        check = {{"type", "contains"},
                 {"values", std::vector<std::string>(k.values().begin(),
                                                     k.values().end())}};
        if (k.match() == reward::v1::Check::ANY) check["match"] = "any";
        if (k.case_insensitive()) check["case_insensitive"] = true;
        break;
      case reward::v1::Check::NOT_CONTAINS:
        check = {{"type", "not_contains"},
                 {"values", std::vector<std::string>(k.values().begin(),
                                                     k.values().end())}};
        break;
      case reward::v1::Check::STARTS_WITH:
        check = {{"type", "starts_with"},
                 {"values", std::vector<std::string>(k.values().begin(),
                                                     k.values().end())}};
        break;
      case reward::v1::Check::REGEX:
        check = {{"type", "regex"}, {"pattern", k.pattern()}};
        break;
      case reward::v1::Check::WORD_COUNT:
        check = {{"type", "word_count"}, {"max", k.max()}};
        break;
      default:
        break;
    }
    nlohmann::json jc = {
        {"id", c.id()}, {"text", c.text()}, {"weight", c.weight()}};
    if (!check.is_null()) jc["check"] = check;
    criteria.push_back(std::move(jc));
  }
  nlohmann::json record = {{"id", r.rubric().id()},
                           {"prompt", r.prompt()},
                           {"criteria", std::move(criteria)}};
  return record.dump();
}

reward::v1::GradeRequest RequestSource::BuildUnary(int64_t prompt,
                                                   int member) const {
  reward::v1::GradeRequest r;
  FillRubric(prompt, &r);
  r.set_response(Response(prompt, member));
  reward::v1::GradeOptions* o = r.mutable_options();
  if (!options_.judge.empty()) o->set_judge(options_.judge);
  o->set_mode(options_.grading_mode);
  if (options_.chunk_size > 0) o->set_chunk_size(options_.chunk_size);
  o->set_skip_cache(options_.skip_cache);
  return r;
}

int64_t RequestSource::unary_period() const {
  if (!synthesized_) {
    return groups_.empty() ? static_cast<int64_t>(unary_.size())
                           : static_cast<int64_t>(groups_.size()) * group_size_;
  }
  return options_.distinct_prompts * group_size_;
}

int64_t RequestSource::group_period() const {
  if (!synthesized_) {
    return groups_.empty() ? static_cast<int64_t>(unary_.size())
                           : static_cast<int64_t>(groups_.size());
  }
  return options_.distinct_prompts;
}

reward::v1::GradeRequest RequestSource::Unary(int64_t i) const {
  reward::v1::GradeRequest r;
  if (!synthesized_ && !unary_.empty()) {
    r = unary_[static_cast<size_t>(i) % unary_.size()];
  } else if (!synthesized_) {
    // A group file used in unary or stream mode: member i % G of group i / G.
    const reward::v1::GradeGroupRequest& g =
        groups_[static_cast<size_t>(i / group_size_) % groups_.size()];
    r.set_rubric_set(g.rubric_set());
    r.set_rubric_id(g.rubric_id());
    *r.mutable_rubric() = g.rubric();
    r.set_prompt(g.prompt());
    *r.mutable_messages() = g.messages();
    if (g.responses_size() > 0) {
      r.set_response(
          g.responses(static_cast<int>(i % group_size_) % g.responses_size()));
    }
    *r.mutable_options() = g.options();
  } else {
    int64_t prompt = i / group_size_;
    if (options_.distinct_prompts > 0) prompt %= options_.distinct_prompts;
    r = BuildUnary(prompt, static_cast<int>(i % group_size_));
  }
  r.set_request_id(absl::StrCat("u", i));
  return r;
}

reward::v1::GradeGroupRequest RequestSource::Group(int64_t i) const {
  reward::v1::GradeGroupRequest g;
  if (!synthesized_) {
    if (groups_.empty()) {
      // A unary file used in group mode: a group of one.
      const reward::v1::GradeRequest& u =
          unary_[static_cast<size_t>(i) % unary_.size()];
      g.set_rubric_set(u.rubric_set());
      g.set_rubric_id(u.rubric_id());
      *g.mutable_rubric() = u.rubric();
      g.set_prompt(u.prompt());
      *g.mutable_messages() = u.messages();
      g.add_responses(u.response());
      *g.mutable_options() = u.options();
    } else {
      g = groups_[static_cast<size_t>(i) % groups_.size()];
    }
  } else {
    int64_t prompt = i;
    if (options_.distinct_prompts > 0) prompt %= options_.distinct_prompts;
    reward::v1::GradeRequest base = BuildUnary(prompt, 0);
    g.set_rubric_set(base.rubric_set());
    g.set_rubric_id(base.rubric_id());
    // mutable_rubric() would add an empty inline rubric to a by-reference
    // group, which rewardd rightly refuses (both kinds of rubric set).
    if (base.has_rubric())
      *g.mutable_rubric() = std::move(*base.mutable_rubric());
    g.set_prompt(base.prompt());
    *g.mutable_options() = base.options();
    for (int m = 0; m < group_size_; ++m) g.add_responses(Response(prompt, m));
  }
  g.set_request_id(absl::StrCat("g", i));
  return g;
}

absl::Status RequestSource::WriteJsonl(const std::string& path, bool group,
                                       int64_t count) const {
  std::ofstream out(path);
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string line;
  for (int64_t i = 0; i < count && out; ++i) {
    line.clear();
    const google::protobuf::util::Status s =
        group ? google::protobuf::util::MessageToJsonString(Group(i), &line,
                                                            print)
              : google::protobuf::util::MessageToJsonString(Unary(i), &line,
                                                            print);
    if (!s.ok()) return absl::InternalError(s.ToString());
    out << line << "\n";
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace rewardd::bench
