// ProtoJsonReader against protobuf's JsonStringToMessage: whatever the
// reader accepts, protobuf accepts with an equal message; and ParseProtoJson
// (the reader, else protobuf) gives exactly protobuf's verdict and error
// message on every input: each request shape, real HealthBench requests,
// hand-written bad inputs and deterministic mutations of valid bodies.
#include "server/gateway/proto_json_reader.h"

#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "reward/v1/reward.pb.h"
#include "server/gateway/proto_json.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

// Equal messages, NaN equal to NaN ("NaN" is a valid double in JSON).
bool Same(const Message& a, const Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

struct Outcome {
  bool ok = false;
  std::string error;  // the 400's message when !ok
};

// protobuf's parser alone, worded as ParseProtoJson words its errors.
template <typename M>
Outcome Protobuf(const std::string& json, M* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (s.ok()) return {true, ""};
  return {false, "request body (" + M::descriptor()->full_name() +
                     " as JSON): " + s.message().as_string()};
}

// Checks both properties on `json`; returns whether the reader took it.
template <typename M>
bool ExpectSameAsProtobuf(const std::string& json) {
  M theirs;
  const Outcome want = Protobuf(json, &theirs);
  M fast;
  const bool read = ProtoJsonReader::TryRead(json, &fast);
  if (read) {
    EXPECT_TRUE(want.ok) << "the reader accepted what protobuf refuses ("
                         << want.error << "): " << json;
    EXPECT_TRUE(Same(fast, theirs))
        << json << "\nreader:   " << fast.ShortDebugString()
        << "\nprotobuf: " << theirs.ShortDebugString();
  }
  M ours;
  const absl::Status got = ParseProtoJson(json, &ours);
  EXPECT_EQ(got.ok(), want.ok) << json;
  if (!got.ok()) {
    EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(got.message()), want.error) << json;
  } else {
    EXPECT_TRUE(Same(ours, theirs)) << json;
  }
  return read;
}

std::string ToJson(const Message& m, bool proto_names) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = proto_names;
  std::string out;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

pb::GradeRequest FullRequest() {
  pb::GradeRequest r;
  r.set_request_id("req-\"1\"\\\n\t\x01 é 漢字 😀");
  r.set_prompt("What is 2+2?");
  r.set_response(std::string(1500, 'x') + " Answer: 4");
  pb::Rubric* rubric = r.mutable_rubric();
  rubric->set_id("arith");
  rubric->set_version("v1");
  for (int i = 0; i < 20; ++i) {
    pb::Criterion* c = rubric->add_criteria();
    c->set_id("c" + std::to_string(i));
    c->set_text("criterion " + std::to_string(i));
    c->set_weight(i % 3 == 0 ? -2.5 : 1.0 / (i + 1));
    c->add_tags("axis:accuracy");
    if (i % 2) {
      pb::Check* check = c->mutable_check();
      check->set_kind(pb::Check::CONTAINS);
      check->add_values("4");
      check->add_values("four");
      check->set_match(pb::Check::ANY);
      check->set_case_insensitive(true);
    }
  }
  pb::GradeOptions* o = r.mutable_options();
  o->set_judge("sim");
  o->set_mode(pb::PER_CRITERION);
  o->set_chunk_size(4);
  o->set_formula(pb::HEALTHBENCH);
  o->set_clip(true);
  o->set_include_explanations(true);
  o->set_skip_cache(true);
  o->set_votes(3);
  (*r.mutable_labels())["policy_version"] = "17";
  (*r.mutable_labels())["experiment"] = "grpo \"a\"";
  return r;
}

TEST(ProtoJsonReaderTest, EveryRequestShapeIsReadLikeProtobuf) {
  pb::GradeRequest by_ref;
  by_ref.set_request_id("r1");
  by_ref.set_rubric_set("benchset");
  by_ref.set_rubric_id("p7");
  by_ref.set_response("Answer: 80");
  pb::GradeRequest chat = by_ref;
  chat.add_messages()->set_role("system");
  chat.mutable_messages(0)->set_content("Be brief.");
  chat.add_messages()->set_role("user");
  chat.mutable_messages(1)->set_content("How fast?");
  pb::GradeGroupRequest group;
  group.set_request_id("g");
  group.set_rubric_set("demo");
  group.set_prompt("p");
  for (int i = 0; i < 16; ++i)
    group.add_responses("response " + std::to_string(i));
  *group.mutable_options() = FullRequest().options();
  *group.mutable_rubric() = FullRequest().rubric();
  for (bool proto_names : {true, false}) {
    for (const pb::GradeRequest& r : {by_ref, chat, FullRequest()}) {
      EXPECT_TRUE(
          ExpectSameAsProtobuf<pb::GradeRequest>(ToJson(r, proto_names)));
    }
    EXPECT_TRUE(ExpectSameAsProtobuf<pb::GradeGroupRequest>(
        ToJson(group, proto_names)));
    EXPECT_TRUE(ExpectSameAsProtobuf<pb::GradeRequest>(
        ToJson(pb::GradeRequest(), proto_names)));
  }
  // Defaults written out, empty objects and arrays, escapes, whitespace.
  for (
      const char* json : {
          R"({"request_id": "", "options": {}, "messages": [], "labels": {}})",
          R"({"options": {"clip": false, "votes": 0, "mode": "GRADING_MODE_UNSPECIFIED"}})",
          R"( { "prompt" : "a\u00e9\ud83d\ude00\n\"\\\/" , "rubric": {"criteria": [{"weight": 1e-3}, {"weight": -7}, {"weight": 2.5E2}]} } )",
          R"({"rubricSet": "s", "rubricId": "i", "options": {"chunkSize": 2, "includeExplanations": true, "missingPolicy": "MISSING_VERDICT_POLICY_UNSPECIFIED"}})",
      }) {
    EXPECT_TRUE(ExpectSameAsProtobuf<pb::GradeRequest>(json));
  }
}

// HealthBench's records as the GradeRequests a user would send: multi-turn
// chat prompts, negative points, tags, physician completions as responses.
TEST(ProtoJsonReaderTest, RealHealthBenchRequestsAreReadLikeProtobuf) {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/healthbench/healthbench_oss_eval_sample.jsonl");
  ASSERT_TRUE(in.good());
  int records = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const nlohmann::json record = nlohmann::json::parse(line);
    pb::GradeRequest r;
    r.set_request_id(record["prompt_id"].get<std::string>());
    for (const auto& turn : record["prompt"]) {
      pb::Message* m = r.add_messages();
      m->set_role(turn["role"].get<std::string>());
      m->set_content(turn["content"].get<std::string>());
    }
    int i = 0;
    for (const auto& c : record["rubrics"]) {
      pb::Criterion* criterion = r.mutable_rubric()->add_criteria();
      criterion->set_id("c" + std::to_string(++i));
      criterion->set_text(c["criterion"].get<std::string>());
      criterion->set_weight(c["points"].get<double>());
      for (const auto& tag : c["tags"])
        criterion->add_tags(tag.get<std::string>());
    }
    if (record["ideal_completions_data"].is_object()) {
      r.set_response(record["ideal_completions_data"]["ideal_completion"]
                         .get<std::string>());
    }
    r.mutable_options()->set_formula(pb::HEALTHBENCH);
    EXPECT_TRUE(ExpectSameAsProtobuf<pb::GradeRequest>(ToJson(r, false)));
    ++records;
  }
  EXPECT_EQ(records, 30);
}

// Inputs the reader must leave to protobuf: the answer and the message are
// protobuf's own.
TEST(ProtoJsonReaderTest, BadAndUnusualInputsGetProtobufsAnswer) {
  for (
      const char* json : {
          "",
          "   ",
          "null",
          "[]",
          "42",
          "\"text\"",
          "{",
          "{}}",
          "{} {}",
          R"({"prompt": "a",})",
          R"({"prompt": 'a'})",
          R"({prompt: "a"})",
          R"({"no_such_field": 1})",
          R"({"options": {"nope": true}})",
          R"({"prompt": 5})",
          R"({"prompt": null})",
          R"({"prompt": ["a"]})",
          R"({"prompt": "a", "prompt": "b"})",
          R"({"prompt": "a", "prompt": "a"})",
          R"({"rubric_set": "a", "rubricSet": "b"})",
          R"({"options": {"votes": -1}})",
          R"({"options": {"votes": 4294967296}})",
          R"({"options": {"votes": 1.0}})",
          R"({"options": {"votes": 1e2}})",
          R"({"options": {"votes": "3"}})",
          R"({"options": {"votes": true}})",
          R"({"options": {"clip": "true"}})",
          R"({"options": {"clip": 1}})",
          R"({"options": {"mode": "NOPE"}})",
          R"({"options": {"mode": 2}})",
          R"({"options": {"mode": "per_criterion"}})",
          R"({"options": {"mode": null}})",
          R"({"options": null})",
          R"({"options": []})",
          R"({"options": "x"})",
          R"({"messages": {}})",
          R"({"messages": [null]})",
          R"({"messages": [1]})",
          R"({"messages": "x"})",
          R"({"labels": []})",
          R"({"labels": {"a": 1}})",
          R"({"labels": {"a": "x", "a": "y"}})",
          R"({"labels": {"a": null}})",
          R"({"rubric": {"criteria": [{"weight": "1.5"}]}})",
          R"({"rubric": {"criteria": [{"weight": "NaN"}]}})",
          R"({"rubric": {"criteria": [{"weight": "Infinity"}]}})",
          R"({"rubric": {"criteria": [{"weight": 1e400}]}})",
          R"({"rubric": {"criteria": [{"weight": 9007199254740993}]}})",
          R"({"rubric": {"criteria": [{"weight": 18446744073709551616}]}})",
          R"({"rubric": {"criteria": [{"check": {"kind": "REGEX", "match": "ALL"}}]}})",
          "{\"prompt\": \"\xff\xfe\"}",
          R"({"prompt": "\ud800"})",
          "{\"prompt\": \"a\x01b\"}",
          R"({"prompt": "\x"})",
      }) {
    SCOPED_TRACE(json);
    ExpectSameAsProtobuf<pb::GradeRequest>(json);
  }
  std::string deep = R"({"rubric": )";
  for (int i = 0; i < 200; ++i) deep += "{\"rubric\": ";
  ExpectSameAsProtobuf<pb::GradeRequest>(deep);
  ExpectSameAsProtobuf<pb::GradeGroupRequest>(R"({"responses": ["a", 1]})");
  ExpectSameAsProtobuf<pb::GradeGroupRequest>(R"({"response": "a"})");
}

// Every one-byte change (replaced, dropped, doubled) at every position of
// valid bodies, with bytes that matter to JSON and to the fields' forms.
TEST(ProtoJsonReaderTest, MutatedBodiesGetProtobufsAnswer) {
  pb::GradeRequest small = FullRequest();
  small.set_response("Answer: 4");
  small.mutable_rubric()->mutable_criteria()->DeleteSubrange(2, 18);
  const std::string bodies[] = {ToJson(small, true), ToJson(small, false)};
  const std::string bytes = "{}[]\":,0-1.eE \\nutfa\x80";
  std::mt19937 rng(16);
  int cases = 0;
  for (const std::string& body : bodies) {
    for (size_t pos = 0; pos < body.size(); ++pos) {
      std::string replaced = body;
      replaced[pos] = bytes[rng() % bytes.size()];
      std::string dropped = body;
      dropped.erase(pos, 1);
      std::string doubled = body;
      doubled.insert(pos, 1, body[pos]);
      for (const std::string& json : {replaced, dropped, doubled}) {
        ExpectSameAsProtobuf<pb::GradeRequest>(json);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 1000);
}

}  // namespace
}  // namespace rewardd
