// The HTTP gateway's pure parts: the gRPC -> HTTP status mapping, the rubric
// reference in a label, OpenRLHF's and slime's request shapes (how the
// response is cut out of OpenRLHF's query, which fields are refused) and the
// OpenRLHF answer. The HTTP and gRPC paths are in
// tests/integration/http_gateway_test.cc.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "server/gateway/gateway_metrics.h"
#include "server/gateway/http_error.h"
#include "server/gateway/openrlhf_codec.h"
#include "server/gateway/rubric_label.h"
#include "server/gateway/slime_codec.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(HttpStatusForCode, MapsEachGrpcCode) {
  EXPECT_EQ(HttpStatusForCode(3), 400);   // INVALID_ARGUMENT
  EXPECT_EQ(HttpStatusForCode(5), 404);   // NOT_FOUND
  EXPECT_EQ(HttpStatusForCode(16), 401);  // UNAUTHENTICATED
  EXPECT_EQ(HttpStatusForCode(7), 403);   // PERMISSION_DENIED
  EXPECT_EQ(HttpStatusForCode(8), 429);   // RESOURCE_EXHAUSTED
  EXPECT_EQ(HttpStatusForCode(14), 503);  // UNAVAILABLE
  EXPECT_EQ(HttpStatusForCode(4), 504);   // DEADLINE_EXCEEDED
  EXPECT_EQ(HttpStatusForCode(13), 500);  // INTERNAL
  EXPECT_EQ(HttpStatusForCode(2), 500);   // UNKNOWN
  HttpError e = HttpErrorFromStatus(absl::NotFoundError("no rubric 'x'"));
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(json::parse(e.Body()),
            json::parse(R"({"error": {"code": "NOT_FOUND",
                                      "message": "no rubric 'x'"}})"));
}

TEST(GatewayRequestCounter, CountsByEndpointAndStatus) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto count = GatewayRequestCounter(*registry);
  count("/v1/slime", 200);
  count("/v1/slime", 200);
  count("other", 404);
  const std::string text =
      prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(rewardd_http_requests_total{code="200",endpoint="/v1/slime"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(rewardd_http_requests_total{code="404",endpoint="other"} 1)"));
}

pb::GradeRequest Label(const json& label, const std::string& set = "demo") {
  pb::GradeRequest r;
  absl::Status s = ApplyRubricLabel(label, "label", set, &r);
  EXPECT_TRUE(s.ok()) << s;
  return r;
}

TEST(ApplyRubricLabel, EveryAcceptedForm) {
  EXPECT_EQ(Label(nullptr).rubric_set(), "demo");
  EXPECT_EQ(Label(nullptr).rubric_id(), "");
  EXPECT_EQ(Label("").rubric_id(), "");
  EXPECT_EQ(Label("arith-1").rubric_id(), "arith-1");
  pb::GradeRequest r = Label({{"rubric_set", "paper"}, {"rubric_id", "p1"}});
  EXPECT_EQ(r.rubric_set(), "paper");
  EXPECT_EQ(r.rubric_id(), "p1");
  r = Label(R"( {"rubric_id": "p2"})");  // a string holding an object
  EXPECT_EQ(r.rubric_set(), "demo");
  EXPECT_EQ(r.rubric_id(), "p2");
  r = Label({{"rubric_set", "paper"}}, "");  // no default set needed
  EXPECT_EQ(r.rubric_set(), "paper");
}

TEST(ApplyRubricLabel, RefusalsNameTheField) {
  pb::GradeRequest r;
  auto message = [&](const json& label, const std::string& set) {
    absl::Status s = ApplyRubricLabel(label, "labels[2]", set, &r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_THAT(message("arith-1", ""),
              HasSubstr("labels[2]: names no rubric_set"));
  EXPECT_THAT(message(7, "demo"), HasSubstr("labels[2]: must be"));
  EXPECT_THAT(message({{"rubric", "x"}}, "demo"),
              HasSubstr("labels[2].rubric: unknown field"));
  EXPECT_THAT(message({{"rubric_id", 3}}, "demo"),
              HasSubstr("labels[2].rubric_id: must be a string"));
  EXPECT_THAT(message("{not json", "demo"),
              HasSubstr("labels[2]: starts with '{'"));
}

TEST(ParseOpenRlhfRequest, CutsTheResponseAfterThePrompt) {
  json body = {{"query", {"<|user|>Q?<|assistant|>A. Answer: 4<|end|>"}},
               {"prompts", {"<|user|>Q?<|assistant|>"}},
               {"labels", {"r1"}}};
  auto requests = ParseOpenRlhfRequest(body, "demo");
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 1u);
  EXPECT_EQ((*requests)[0].response(), "A. Answer: 4<|end|>");
  EXPECT_EQ((*requests)[0].prompt(), "<|user|>Q?<|assistant|>");
  EXPECT_EQ((*requests)[0].rubric_id(), "r1");
  EXPECT_EQ((*requests)[0].request_id(), "0");

  body.erase("labels");  // labels may be left out: rubric by prompt
  requests = ParseOpenRlhfRequest(body, "demo");
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_EQ((*requests)[0].rubric_id(), "");
}

TEST(ParseOpenRlhfRequest, RefusesWhatItCannotReadExactly) {
  auto message = [](const json& body) {
    auto r = ParseOpenRlhfRequest(body, "demo");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_THAT(message({{"query", {"<s>P R"}}, {"prompts", {"P "}}}),
              HasSubstr("query[0]: does not start with prompts[0] (they "
                        "differ from byte 0"));
  EXPECT_THAT(message({{"query", {"PR"}}, {"prompts", {"P", "Q"}}}),
              HasSubstr("prompts: has 2 entries; query has 1"));
  EXPECT_THAT(message({{"query", {"PR"}}, {"prompts", {"P"}}, {"x", 1}}),
              HasSubstr("x: unknown field"));
  EXPECT_THAT(message({{"query", {1}}, {"prompts", {"P"}}}),
              HasSubstr("query[0]: must be a string"));
  EXPECT_THAT(message({{"prompts", {"P"}}}), HasSubstr("query: missing"));
  EXPECT_THAT(
      message(
          {{"query", {"PR"}}, {"prompts", {"P"}}, {"labels", json::array()}}),
      HasSubstr("labels: must be a list of 1 labels"));
  EXPECT_THAT(message(json::array()), HasSubstr("must be a JSON object"));
}

TEST(OpenRlhfResponse, RewardsScoresAndPerSampleLogs) {
  pb::GradeResponse a;
  a.set_reward(0.75);
  a.set_score(3);
  a.set_max_score(4);
  a.add_criteria()->set_verdict(pb::CriterionResult::MET);
  a.add_criteria()->set_verdict(pb::CriterionResult::UNMET);
  json out = OpenRlhfResponse({a, a});
  EXPECT_EQ(out["rewards"], json({0.75, 0.75}));
  EXPECT_EQ(out["scores"], json({0.75, 0.75}));
  EXPECT_EQ(out["extra_logs"]["rubric_score"], json({3.0, 3.0}));
  EXPECT_EQ(out["extra_logs"]["rubric_max_score"], json({4.0, 4.0}));
  EXPECT_EQ(out["extra_logs"]["criteria_met_fraction"], json({0.5, 0.5}));
}

TEST(ParseSlimeRequest, TextOrChatMessages) {
  auto r = ParseSlimeRequest(
      {{"prompt", "Q?"}, {"response", "A"}, {"label", "r1"}}, "demo");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(), "Q?");
  EXPECT_EQ(r->response(), "A");
  EXPECT_EQ(r->rubric_id(), "r1");
  r = ParseSlimeRequest(
      json::parse(R"({"prompt": [{"role": "system", "content": "S"},
                                 {"role": "user", "content": "U"}],
                      "response": "A"})"),
      "demo");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->messages_size(), 2);
  EXPECT_EQ(r->messages(1).role(), "user");
  EXPECT_EQ(r->messages(1).content(), "U");
  EXPECT_EQ(r->prompt(), "");
}

TEST(ParseSlimeRequest, RefusalsNameTheField) {
  auto message = [](const std::string& body) {
    auto r = ParseSlimeRequest(json::parse(body), "demo");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_THAT(message(R"({"response": "A"})"), HasSubstr("prompt: missing"));
  EXPECT_THAT(message(R"({"prompt": "Q"})"), HasSubstr("response: missing"));
  EXPECT_THAT(message(R"({"prompt": "Q", "response": 1})"),
              HasSubstr("response: must be a string"));
  EXPECT_THAT(message(R"({"prompt": "Q", "response": "A", "metadata": {}})"),
              HasSubstr("metadata: unknown field"));
  EXPECT_THAT(message(R"({"prompt": [{"role": "user", "content": [{"type":
                          "text"}]}], "response": "A"})"),
              HasSubstr("prompt[0].content: must be a string"));
  EXPECT_THAT(message(R"({"prompt": [{"role": "user", "content": "U",
                          "name": "x"}], "response": "A"})"),
              HasSubstr("prompt[0].name: unknown field"));
  EXPECT_THAT(message(R"({"prompt": [{"content": "U"}], "response": "A"})"),
              HasSubstr("prompt[0].role: missing"));
  EXPECT_THAT(message(R"({"prompt": 3, "response": "A"})"),
              HasSubstr("prompt: must be a string or a list"));
}

}  // namespace
}  // namespace rewardd
