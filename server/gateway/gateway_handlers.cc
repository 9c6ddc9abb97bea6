#include "server/gateway/gateway_handlers.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "server/gateway/json_fields.h"
#include "server/gateway/openrlhf_codec.h"
#include "server/gateway/proto_json.h"
#include "server/gateway/slime_codec.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

constexpr char kServiceName[] = "reward.v1.RewardService";

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

HttpReply FromStatus(const absl::Status& s) {
  return HttpReply::Error(HttpErrorFromStatus(s));
}

bool PrintableAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

GatewayHandlers::GatewayHandlers(const GatewayOptions& options,
                                 std::shared_ptr<grpc::Channel> channel)
    : grade_backend_(options.grade_backend),
      default_rubric_set_(options.default_rubric_set),
      deadline_(options.deadline),
      max_calls_per_request_(
          static_cast<size_t>(options.max_calls_per_request)),
      stub_(pb::RewardService::NewStub(channel)),
      health_(grpc::health::v1::Health::NewStub(channel)) {}

absl::StatusOr<std::optional<std::string>> GatewayHandlers::AuthorizationOf(
    const httplib::Request& request) {
  if (!request.has_header("Authorization")) return std::nullopt;
  std::string value = request.get_header_value("Authorization");
  if (!PrintableAscii(value)) {
    return absl::UnauthenticatedError(
        "the Authorization header holds bytes outside printable ASCII");
  }
  return value;
}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>>
GatewayHandlers::NewContext(const httplib::Request& request) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(deadline_));
  absl::StatusOr<std::optional<std::string>> authorization =
      AuthorizationOf(request);
  if (!authorization.ok()) return authorization.status();
  if (authorization->has_value()) {
    context->AddMetadata("authorization", **authorization);
  }
  return context;
}

template <typename Request, typename Response, typename Call>
HttpReply GatewayHandlers::Unary(const httplib::Request& http_request,
                                 Call call) {
  Request request;
  if (absl::Status s = ParseProtoJson(http_request.body, &request); !s.ok()) {
    return FromStatus(s);
  }
  auto context = NewContext(http_request);
  if (!context.ok()) return FromStatus(context.status());
  Response response;
  grpc::Status s = (stub_.get()->*call)(context->get(), request, &response);
  if (!s.ok()) return FromStatus(FromGrpc(s));
  return {200, PrintProtoJson(response)};
}

HttpReply GatewayHandlers::Grade(const httplib::Request& request) {
  if (grade_backend_ == nullptr) {
    return Unary<pb::GradeRequest, pb::GradeResponse>(
        request, &pb::RewardService::Stub::Grade);
  }
  // The same steps as Unary(), with the backend in place of the RPC.
  pb::GradeRequest grade;
  if (absl::Status s = ParseProtoJson(request.body, &grade); !s.ok()) {
    return FromStatus(s);
  }
  CallResult result = GradeDirect(std::move(grade), request);
  if (!result.status.ok()) return FromStatus(FromGrpc(result.status));
  return {200, PrintProtoJson(result.response)};
}

GatewayHandlers::CallResult GatewayHandlers::GradeDirect(
    pb::GradeRequest request, const httplib::Request& http_request) {
  CallResult result;
  absl::StatusOr<std::optional<std::string>> authorization =
      AuthorizationOf(http_request);
  if (!authorization.ok()) {
    result.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                 std::string(authorization.status().message()));
    return result;
  }
  absl::Status s = grade_backend_->Grade(
      std::move(request),
      authorization->has_value() ? &**authorization : nullptr,
      absl::Now() + deadline_, &result.response);
  result.status = grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                               std::string(s.message()));
  return result;
}

HttpReply GatewayHandlers::GradeGroup(const httplib::Request& request) {
  return Unary<pb::GradeGroupRequest, pb::GradeGroupResponse>(
      request, &pb::RewardService::Stub::GradeGroup);
}

std::vector<GatewayHandlers::CallResult> GatewayHandlers::GradeAll(
    const std::vector<pb::GradeRequest>& requests,
    const httplib::Request& http_request) {
  // One call (slime's requests, OpenRLHF's usual one sample) needs no
  // concurrency: the backend grades it on this thread.
  if (grade_backend_ != nullptr && requests.size() == 1) {
    std::vector<CallResult> results;
    results.push_back(GradeDirect(requests[0], http_request));
    return results;
  }
  // Shared with the callbacks, which run on gRPC's threads and only record
  // a result and count it.
  struct State {
    absl::Mutex mu;
    std::vector<CallResult> results;
    size_t done ABSL_GUARDED_BY(mu) = 0;
  };
  auto state = std::make_shared<State>();
  state->results.resize(requests.size());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto context = NewContext(http_request);
    if (!context.ok()) {
      state->results[i].status =
          grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                       std::string(context.status().message()));
      absl::MutexLock lock(&state->mu);
      ++state->done;
      continue;
    }
    contexts[i] = *std::move(context);
    {
      // A large batch goes out max_calls_per_request_ calls at a time, so
      // it does not hit rewardd's in-flight limit all by itself.
      absl::MutexLock lock(&state->mu);
      auto room = [&] { return i - state->done < max_calls_per_request_; };
      state->mu.Await(absl::Condition(&room));
    }
    stub_->async()->Grade(contexts[i].get(), &requests[i],
                          &state->results[i].response,
                          [state, i](grpc::Status s) {
                            absl::MutexLock lock(&state->mu);
                            state->results[i].status = std::move(s);
                            ++state->done;
                          });
  }
  absl::MutexLock lock(&state->mu);
  auto all_done = [&] { return state->done == requests.size(); };
  state->mu.Await(absl::Condition(&all_done));
  return std::move(state->results);
}

std::optional<HttpReply> GatewayHandlers::FirstFailure(
    const std::vector<CallResult>& results) {
  auto where = [&](size_t i) {
    return results.size() == 1 ? std::string()
                               : absl::StrCat("sample ", i, ": ");
  };
  for (size_t i = 0; i < results.size(); ++i) {
    const grpc::Status& s = results[i].status;
    if (!s.ok()) {
      return FromStatus(
          absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                       where(i) + s.error_message()));
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const pb::GradeResponse& r = results[i].response;
    if (!r.valid()) {
      return HttpReply::Error(InvalidResultError(absl::StrCat(
          where(i), "the result is invalid and must not be used as a reward: ",
          r.invalid_reason().empty() ? "no reason given"
                                     : r.invalid_reason())));
    }
  }
  return std::nullopt;
}

HttpReply GatewayHandlers::OpenRlhf(const httplib::Request& request) {
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) return FromStatus(body.status());
  auto grades = ParseOpenRlhfRequest(*body, default_rubric_set_);
  if (!grades.ok()) return FromStatus(grades.status());
  std::vector<CallResult> results = GradeAll(*grades, request);
  if (std::optional<HttpReply> failure = FirstFailure(results)) {
    return *std::move(failure);
  }
  std::vector<pb::GradeResponse> responses;
  responses.reserve(results.size());
  for (CallResult& r : results) responses.push_back(std::move(r.response));
  return {200, OpenRlhfResponse(responses).dump(
                   -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

HttpReply GatewayHandlers::Slime(const httplib::Request& request) {
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) return FromStatus(body.status());
  auto grade = ParseSlimeRequest(*body, default_rubric_set_);
  if (!grade.ok()) return FromStatus(grade.status());
  std::vector<CallResult> results = GradeAll({*std::move(grade)}, request);
  if (std::optional<HttpReply> failure = FirstFailure(results)) {
    return *std::move(failure);
  }
  return {200, PrintProtoJson(results[0].response)};
}

HttpReply GatewayHandlers::Health(const httplib::Request& request) {
  auto context = NewContext(request);
  if (!context.ok()) return FromStatus(context.status());
  grpc::health::v1::HealthCheckRequest check;
  check.set_service(kServiceName);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = health_->Check(context->get(), check, &response);
  if (!s.ok()) return FromStatus(FromGrpc(s));
  const bool serving =
      response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  nlohmann::json body = {
      {"status", grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                     response.status())}};
  return {serving ? 200 : 503, body.dump()};
}

}  // namespace rewardd
