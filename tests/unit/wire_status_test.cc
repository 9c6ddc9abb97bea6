// The wire codes clients see for each domain error (README "Errors"), for
// whole RPCs and for one GradeStream item.
#include "server/service/wire_status.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

TEST(WireStatus, EachDomainErrorKeepsItsCodeAndMessage) {
  const std::pair<absl::Status, grpc::StatusCode> cases[] = {
      {absl::NotFoundError("rubric set 'x' is not loaded"),
       grpc::StatusCode::NOT_FOUND},
      {absl::InvalidArgumentError("the prompt is 9 bytes"),
       grpc::StatusCode::INVALID_ARGUMENT},
      {absl::ResourceExhaustedError("queue full"),
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::UnavailableError("draining"), grpc::StatusCode::UNAVAILABLE},
      {absl::DeadlineExceededError("too late"),
       grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::UnauthenticatedError("no token"),
       grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [domain, wire] : cases) {
    const grpc::Status s = ToWireStatus(domain);
    EXPECT_EQ(s.error_code(), wire) << domain;
    EXPECT_EQ(s.error_message(), domain.message());
  }
  EXPECT_TRUE(ToWireStatus(absl::OkStatus()).ok());
}

TEST(WireStatus, AStreamItemErrorIsAnInvalidAnswerWithTheCode) {
  reward::v1::GradeResponse response;
  response.set_request_id("item-7");
  WireErrorToProto(absl::InvalidArgumentError("request_id is empty"),
                   &response);
  EXPECT_FALSE(response.valid());
  EXPECT_EQ(response.request_id(), "item-7");
  EXPECT_EQ(response.error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.error().message(), "request_id is empty");
  EXPECT_EQ(response.invalid_reason(), "request_id is empty");
}

}  // namespace
}  // namespace rewardd
