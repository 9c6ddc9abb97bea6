// Requests and clients shared by the integration tests that call a rewardd
// (a process, rewardd_process.h, or an in-process Server): one inline rubric
// decided exactly by the embedded judge, and a client that does not retry,
// so each test sees what the server answered.
//
//   RewardClient::Options options;
//   options.target = server.address();
//   std::unique_ptr<RewardClient> client = OneShotClient(options);
//   auto r = client->Grade(ParisRequest("id-1"));           // reward 1
//   auto r0 = client->Grade(ParisRequest("id-2", "Rome"));  // reward 0
//
// Thread-safety: plain functions; the client is thread-safe.
#ifndef REWARDD_TESTS_INTEGRATION_TEST_REQUESTS_H_
#define REWARDD_TESTS_INTEGRATION_TEST_REQUESTS_H_

#include <memory>
#include <string>
#include <utility>

#include "client/reward_client.h"
#include "gtest/gtest.h"
#include "reward/v1/reward.pb.h"

namespace rewardd::testing {

// A GradeRequest with request_id `id` whose inline rubric has one criterion
// ("paris", weight 1) met exactly when the response contains "Paris".
inline reward::v1::GradeRequest ParisRequest(
    const std::string& id, const std::string& response = "Paris") {
  reward::v1::GradeRequest req;
  req.set_request_id(id);
  auto* c = req.mutable_rubric()->add_criteria();
  c->set_id("paris");
  c->set_text("Names Paris");
  c->set_weight(1);
  c->mutable_check()->set_kind(reward::v1::Check::CONTAINS);
  c->mutable_check()->add_values("Paris");
  req.set_response(response);
  return req;
}

// A client for `options` (target, TLS, token as the test sets them) with
// one attempt per call and a 10 s deadline; fails the test when it cannot
// be created.
inline std::unique_ptr<RewardClient> OneShotClient(
    RewardClient::Options options) {
  options.max_attempts = 1;
  options.deadline = absl::Seconds(10);
  auto client = RewardClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_INTEGRATION_TEST_REQUESTS_H_
