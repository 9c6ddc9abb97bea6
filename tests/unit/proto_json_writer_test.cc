// ProtoJsonWriter prints the same JSON values as protobuf's
// MessageToJsonString (preserve_proto_field_names,
// always_print_primitive_fields) for every shape the gateway answers with.
#include "server/gateway/proto_json_writer.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nlohmann/json.hpp"
#include "reward/v1/reward.pb.h"
#include "reward/v1/rubric_service.pb.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

std::string ProtobufJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

std::string WriterJson(const google::protobuf::Message& m) {
  EXPECT_TRUE(ProtoJsonWriter::CanWrite(*m.GetDescriptor()));
  std::string out;
  ProtoJsonWriter::Append(m, &out);
  return out;
}

// Both printers' output parsed as JSON values must be equal (numbers
// compared as the doubles they denote).
void ExpectSameJson(const google::protobuf::Message& m) {
  const std::string ours = WriterJson(m);
  const std::string theirs = ProtobufJson(m);
  nlohmann::json a = nlohmann::json::parse(ours, nullptr, false);
  nlohmann::json b = nlohmann::json::parse(theirs, nullptr, false);
  ASSERT_FALSE(a.is_discarded()) << "not JSON: " << ours;
  ASSERT_FALSE(b.is_discarded());
  EXPECT_EQ(a, b) << "writer:   " << ours << "\nprotobuf: " << theirs;
}

pb::GradeResponse FullResponse() {
  pb::GradeResponse r;
  r.set_request_id("req-\"1\"\\\n\t\x01 é 漢字");
  r.set_reward(0.7333333333333333);
  r.set_valid(true);
  r.set_score(11);
  r.set_max_score(15);
  r.set_rubric_set("demo");
  r.set_rubric_id("arith-1");
  r.set_rubric_version("0123456789abcdef");
  r.set_expected_reward(1e-7);
  r.mutable_timings()->set_total_seconds(0.001234);
  for (int i = 0; i < 20; ++i) {
    pb::CriterionResult* c = r.add_criteria();
    c->set_id("c" + std::to_string(i));
    c->set_weight(i % 3 == 0 ? -2.5 : 1.0 / (i + 1));
    c->set_verdict(i % 2 ? pb::CriterionResult::MET
                         : pb::CriterionResult::UNMET);
    c->set_status(pb::CriterionResult::OK);
    if (i % 4 == 0) c->set_probability(0.1 * i);
    if (i == 5) c->set_explanation("says \"80\" <script>");
  }
  return r;
}

TEST(ProtoJsonWriterTest, EmptyResponsePrintsEveryPrimitiveLikeProtobuf) {
  ExpectSameJson(pb::GradeResponse());
  ExpectSameJson(pb::GradeGroupResponse());
  ExpectSameJson(pb::ListRubricSetsResponse());
}

TEST(ProtoJsonWriterTest, FullGradeResponseMatchesProtobuf) {
  ExpectSameJson(FullResponse());
}

TEST(ProtoJsonWriterTest, GroupResponseWithItemErrorsMatchesProtobuf) {
  pb::GradeGroupResponse g;
  g.set_request_id("g1");
  *g.add_results() = FullResponse();
  pb::GradeResponse* bad = g.add_results();
  bad->set_valid(false);
  bad->set_invalid_reason("judge timed out");
  bad->mutable_error()->set_code(4);
  bad->mutable_error()->set_message("deadline");
  g.set_mean_reward(0.5);
  g.set_valid_count(1);
  ExpectSameJson(g);
}

TEST(ProtoJsonWriterTest, RubricsWithChecksAndInt64sMatchProtobuf) {
  pb::GetRubricResponse r;
  r.set_rubric_set("s");
  r.set_set_version("v");
  pb::Rubric* rubric = r.mutable_rubric();
  rubric->set_id("x");
  pb::Criterion* c = rubric->add_criteria();
  c->set_id("c1");
  c->set_weight(3);
  c->mutable_check()->set_kind(pb::Check::WORD_COUNT);
  c->mutable_check()->set_min(-9007199254740993LL);
  c->mutable_check()->set_max(9007199254740993LL);
  ExpectSameJson(r);
  pb::ListRubricSetsResponse list;
  list.add_sets()->set_loaded_at_unix(1764806400);
  ExpectSameJson(list);
}

TEST(ProtoJsonWriterTest, MapsAndMessagesOfRequestsMatchProtobuf) {
  pb::GradeRequest q;
  q.set_rubric_set("s");
  (*q.mutable_labels())["policy_version"] = "step-120";
  (*q.mutable_labels())["a\"b"] = "";
  q.add_messages()->set_content("hi");
  ExpectSameJson(q);
}

TEST(ProtoJsonWriterTest, SpecialDoublesAndUnknownEnumValuesMatchProtobuf) {
  pb::GradeResponse r;
  r.set_reward(std::numeric_limits<double>::quiet_NaN());
  r.set_score(std::numeric_limits<double>::infinity());
  r.set_max_score(-std::numeric_limits<double>::infinity());
  r.set_expected_reward(std::numeric_limits<double>::denorm_min());
  pb::CriterionResult* c = r.add_criteria();
  c->set_weight(1e300);
  c->set_verdict(static_cast<pb::CriterionResult::Verdict>(77));
  // NaN != NaN as parsed JSON, so compare texts for the strings first.
  EXPECT_NE(WriterJson(r).find("\"reward\":\"NaN\""), std::string::npos);
  r.set_reward(0);
  ExpectSameJson(r);
}

TEST(ProtoJsonWriterTest, RefuseMessagesWithWellKnownTypes) {
  EXPECT_FALSE(
      ProtoJsonWriter::CanWrite(*google::protobuf::Struct::descriptor()));
  EXPECT_TRUE(ProtoJsonWriter::CanWrite(*pb::RefineRubricEvent::descriptor()));
}

}  // namespace
}  // namespace rewardd
