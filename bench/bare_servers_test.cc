// The bench's do-nothing servers (bare-server on gRPC's callback API,
// bare-cq-server on its completion-queue API) give the same answer to the
// same Grade call, so a floor measured on either stands for the same work.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/rewardd_process.h"

namespace rewardd::bench {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::RewarddProcess;

std::unique_ptr<pb::RewardService::Stub> Connect(const RewarddProcess& p) {
  return pb::RewardService::NewStub(
      grpc::CreateChannel(p.address(), grpc::InsecureChannelCredentials()));
}

grpc::Status Grade(pb::RewardService::Stub& stub, const pb::GradeRequest& req,
                   pb::GradeResponse* out) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  return stub.Grade(&context, req, out);
}

pb::GradeRequest InlineRequest() {
  pb::GradeRequest req;
  req.set_request_id("r1");
  req.set_response("an answer");
  pb::Rubric* rubric = req.mutable_rubric();
  rubric->set_id("inline");
  for (int i = 0; i < 3; ++i) {
    pb::Criterion* c = rubric->add_criteria();
    c->set_id("c" + std::to_string(i));
    c->set_weight(i + 1);
    c->set_text("criterion " + std::to_string(i));
  }
  return req;
}

class BareServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status a = callback_.Start();
    ASSERT_TRUE(a.ok()) << a;
    const absl::Status b = cq_.Start();
    ASSERT_TRUE(b.ok()) << b;
  }

  // RewarddProcess adds rewardd's --metrics_listen, which these servers
  // do not have.
  RewarddProcess callback_{
      {"--criteria=5", "--undefok=metrics_listen"},
      std::string(REWARDD_BINARY_DIR) + "/bench/bare-server"};
  RewarddProcess cq_{
      {"--criteria=5", "--threads=2", "--undefok=metrics_listen"},
      std::string(REWARDD_BINARY_DIR) + "/bench/bare-cq-server"};
};

TEST_F(BareServersTest, BothAnswerTheSameGradeCallAlike) {
  pb::GradeRequest by_reference;
  by_reference.set_request_id("r2");
  by_reference.set_rubric_set("s");
  by_reference.set_rubric_id("p1");
  for (const pb::GradeRequest& req : {InlineRequest(), by_reference}) {
    pb::GradeResponse a, b;
    ASSERT_TRUE(Grade(*Connect(callback_), req, &a).ok());
    ASSERT_TRUE(Grade(*Connect(cq_), req, &b).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b))
        << a.DebugString() << "\nvs\n"
        << b.DebugString();
    EXPECT_TRUE(b.valid());
    EXPECT_EQ(b.request_id(), req.request_id());
    EXPECT_EQ(b.criteria_size(), req.has_rubric() ? 3 : 5);
  }
}

TEST_F(BareServersTest, TheCompletionQueueServerAnswersManyCallsAtOnce) {
  auto stub = Connect(cq_);
  constexpr int kCalls = 200;  // more than the calls it keeps requested
  grpc::CompletionQueue cq;
  struct Pending {
    grpc::ClientContext context;
    pb::GradeResponse response;
    grpc::Status status;
  };
  std::vector<Pending> calls(kCalls);
  const pb::GradeRequest req = InlineRequest();
  for (int i = 0; i < kCalls; ++i) {
    calls[i].context.set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::seconds(30));
    stub->AsyncGrade(&calls[i].context, req, &cq)
        ->Finish(&calls[i].response, &calls[i].status, &calls[i]);
  }
  for (int i = 0; i < kCalls; ++i) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    ASSERT_TRUE(ok);
    Pending* p = static_cast<Pending*>(tag);
    EXPECT_TRUE(p->status.ok()) << p->status.error_message();
    EXPECT_EQ(p->response.criteria_size(), 3);
  }
}

TEST_F(BareServersTest, TheCompletionQueueServerServesOnlyGrade) {
  grpc::ClientContext context;
  pb::GradeGroupRequest req;
  pb::GradeGroupResponse out;
  EXPECT_EQ(Connect(cq_)->GradeGroup(&context, req, &out).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace rewardd::bench
