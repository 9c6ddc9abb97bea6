#include "client/reward_client.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/util/status_macros.h"

namespace rewardd {
namespace {

using reward::v1::GradeGroupRequest;
using reward::v1::GradeGroupResponse;
using reward::v1::GradeRequest;
using reward::v1::GradeResponse;

// gRPC durations in service config JSON: decimal seconds with an "s".
std::string JsonDuration(absl::Duration d) {
  return absl::StrFormat("%.3fs", std::max(absl::ToDoubleSeconds(d), 0.001));
}

// Whether `host` is an IPv4 or IPv6 literal (v6 in brackets).
enum class HostKind { kIpv4, kIpv6, kName };
HostKind ClassifyHost(absl::string_view host) {
  if (absl::StartsWith(host, "[")) return HostKind::kIpv6;
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4) return HostKind::kName;
  for (absl::string_view p : parts) {
    int v = 0;
    if (p.empty() || p.size() > 3 || !absl::SimpleAtoi(p, &v) || v > 255) {
      return HostKind::kName;
    }
  }
  return HostKind::kIpv4;
}

// Splits "host:port" ("[v6]:port" for IPv6). INVALID_ARGUMENT without port.
absl::Status CheckHostPort(absl::string_view address, absl::string_view* host) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("target address \"", address, "\" is not host:port"));
  }
  *host = address.substr(0, colon);
  return absl::OkStatus();
}

}  // namespace

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string ServiceConfigJson(const RewardClient::Options& options) {
  std::string method_config;
  if (options.max_attempts > 1) {
    method_config = absl::StrFormat(
        R"(,"methodConfig":[{"name":[{"service":"reward.v1.RewardService"},)"
        R"({"service":"grpc.health.v1.Health"}],)"
        R"("retryPolicy":{"maxAttempts":%d,"initialBackoff":"%s",)"
        R"("maxBackoff":"%s","backoffMultiplier":%g,)"
        R"("retryableStatusCodes":["UNAVAILABLE"]}}])",
        std::min(options.max_attempts, 5),
        JsonDuration(options.initial_backoff),
        JsonDuration(std::max(options.max_backoff, options.initial_backoff)),
        std::max(options.backoff_multiplier, 1.0));
  }
  return absl::StrCat(R"({"loadBalancingConfig":[{")", options.lb_policy,
                      R"(":{}}])", method_config, "}");
}

absl::StatusOr<std::vector<std::string>> ResolveTargets(
    absl::string_view target) {
  target = absl::StripAsciiWhitespace(target);
  if (target.empty()) return absl::InvalidArgumentError("empty target");
  // A URI ("dns:///x:1", "ipv4:1.2.3.4:5,...", "unix:/path") goes to gRPC
  // as it is.
  if (absl::StrContains(target, ":/") || absl::StartsWith(target, "ipv4:") ||
      absl::StartsWith(target, "ipv6:") || absl::StartsWith(target, "unix:")) {
    return std::vector<std::string>{std::string(target)};
  }
  std::vector<absl::string_view> addresses =
      absl::StrSplit(target, ',', absl::SkipWhitespace());
  if (addresses.empty()) return absl::InvalidArgumentError("empty target");
  if (addresses.size() == 1) {
    absl::string_view host;
    absl::string_view address = absl::StripAsciiWhitespace(addresses[0]);
    if (absl::Status s = CheckHostPort(address, &host); !s.ok()) return s;
    return std::vector<std::string>{std::string(address)};
  }
  bool all_v4 = true, all_v6 = true;
  std::vector<std::string> cleaned;
  for (absl::string_view a : addresses) {
    a = absl::StripAsciiWhitespace(a);
    absl::string_view host;
    if (absl::Status s = CheckHostPort(a, &host); !s.ok()) return s;
    HostKind kind = ClassifyHost(host);
    all_v4 = all_v4 && kind == HostKind::kIpv4;
    all_v6 = all_v6 && kind == HostKind::kIpv6;
    cleaned.emplace_back(a);
  }
  // IP literals of one family: a single channel whose round_robin policy
  // sees every address, so a retry can go to another server.
  if (all_v4)
    return std::vector<std::string>{
        absl::StrCat("ipv4:", absl::StrJoin(cleaned, ","))};
  if (all_v6)
    return std::vector<std::string>{
        absl::StrCat("ipv6:", absl::StrJoin(cleaned, ","))};
  return cleaned;
}

RewardClient::RewardClient(const Options& options) : options_(options) {}

RewardClient::~RewardClient() = default;

absl::StatusOr<std::unique_ptr<RewardClient>> RewardClient::Create(
    const Options& options) {
  if (options.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("deadline must be positive");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("max_attempts must be at least 1");
  }
  if (options.lb_policy.empty() ||
      options.lb_policy.find_first_of("\"\\") != std::string::npos) {
    return absl::InvalidArgumentError("bad lb_policy");
  }
  REWARDD_ASSIGN_OR_RETURN(const std::vector<std::string> targets,
                           ResolveTargets(options.target));

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.use_tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    if (options.tls_client_cert_pem.empty() !=
        options.tls_client_key_pem.empty()) {
      return absl::InvalidArgumentError(
          "mutual TLS needs both tls_client_cert_pem and tls_client_key_pem");
    }
    ssl.pem_cert_chain = options.tls_client_cert_pem;
    ssl.pem_private_key = options.tls_client_key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetServiceConfigJSON(ServiceConfigJson(options));
  args.SetInt(GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE, options.retry_buffer_bytes);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.max_attempts > 1 ? 1 : 0);
  if (options.keepalive_time > absl::ZeroDuration()) {
    args.SetInt(
        GRPC_ARG_KEEPALIVE_TIME_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  }

  std::unique_ptr<RewardClient> client(new RewardClient(options));
  for (const std::string& target : targets) {
    Channel c;
    c.channel = grpc::CreateCustomChannel(target, credentials, args);
    c.stub = reward::v1::RewardService::NewStub(c.channel);
    c.rubric = reward::v1::RubricService::NewStub(c.channel);
    c.health = grpc::health::v1::Health::NewStub(c.channel);
    client->channels_.push_back(std::move(c));
  }
  return client;
}

RewardClient::Channel& RewardClient::PickChannel() {
  const size_t n = channels_.size();
  const uint64_t start = next_channel_.fetch_add(1, std::memory_order_relaxed);
  if (n == 1) return channels_[0];
  // Skip channels whose every address is failing, unless all are.
  for (size_t i = 0; i < n; ++i) {
    Channel& c = channels_[(start + i) % n];
    if (c.channel->GetState(/*try_to_connect=*/true) !=
        GRPC_CHANNEL_TRANSIENT_FAILURE) {
      return c;
    }
  }
  return channels_[start % n];
}

void RewardClient::PrepareContext(grpc::ClientContext& context,
                                  bool with_deadline) const {
  if (with_deadline) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  }
  context.set_wait_for_ready(options_.wait_for_ready);
  if (!options_.bearer_token.empty()) {
    context.AddMetadata("authorization",
                        absl::StrCat("Bearer ", options_.bearer_token));
  }
}

absl::StatusOr<GradeResponse> RewardClient::Grade(const GradeRequest& request) {
  grpc::ClientContext context;
  PrepareContext(context, true);
  GradeResponse response;
  grpc::Status status = PickChannel().stub->Grade(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<GradeGroupResponse> RewardClient::GradeGroup(
    const GradeGroupRequest& request) {
  grpc::ClientContext context;
  PrepareContext(context, true);
  GradeGroupResponse response;
  grpc::Status status =
      PickChannel().stub->GradeGroup(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<reward::v1::ListRubricSetsResponse>
RewardClient::ListRubricSets() {
  grpc::ClientContext context;
  PrepareContext(context, true);
  reward::v1::ListRubricSetsResponse response;
  grpc::Status status = PickChannel().stub->ListRubricSets(
      &context, reward::v1::ListRubricSetsRequest(), &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<reward::v1::GetRubricResponse> RewardClient::GetRubric(
    absl::string_view rubric_set, absl::string_view rubric_id) {
  grpc::ClientContext context;
  PrepareContext(context, true);
  reward::v1::GetRubricRequest request;
  request.set_rubric_set(std::string(rubric_set));
  request.set_rubric_id(std::string(rubric_id));
  reward::v1::GetRubricResponse response;
  grpc::Status status =
      PickChannel().stub->GetRubric(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<reward::v1::ListSaturatedRubricsResponse>
RewardClient::ListSaturatedRubrics(absl::string_view rubric_set,
                                   uint32_t limit) {
  grpc::ClientContext context;
  PrepareContext(context, true);
  reward::v1::ListSaturatedRubricsRequest request;
  request.set_rubric_set(std::string(rubric_set));
  request.set_limit(limit);
  reward::v1::ListSaturatedRubricsResponse response;
  grpc::Status status =
      PickChannel().stub->ListSaturatedRubrics(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<reward::v1::GenerateRubricResponse> RewardClient::GenerateRubric(
    const reward::v1::GenerateRubricRequest& request, absl::Duration deadline) {
  grpc::ClientContext context;
  PrepareContext(context, false);
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  reward::v1::GenerateRubricResponse response;
  grpc::Status status =
      PickChannel().rubric->GenerateRubric(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::Status RewardClient::RefineRubric(
    const reward::v1::RefineRubricRequest& request, absl::Duration deadline,
    absl::FunctionRef<void(const reward::v1::RefineRubricEvent&)> on_event) {
  grpc::ClientContext context;
  PrepareContext(context, false);
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  std::unique_ptr<grpc::ClientReader<reward::v1::RefineRubricEvent>> reader =
      PickChannel().rubric->RefineRubric(&context, request);
  reward::v1::RefineRubricEvent event;
  while (reader->Read(&event)) on_event(event);
  return ToAbslStatus(reader->Finish());
}

absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus>
RewardClient::Health(absl::string_view service) {
  grpc::ClientContext context;
  PrepareContext(context, true);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      PickChannel().health->Check(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response.status();
}

namespace {

// Everything one callback call needs, alive until its callback has run.
template <typename Request, typename Response, typename Callback>
struct AsyncCall {
  grpc::ClientContext context;
  Request request;
  Response response;
  Callback done;
};

// Frees the call, then runs its callback. The ClientContext must go first:
// it holds a reference to the gRPC call, and a caller that destroys the
// RewardClient as soon as its callback ran would otherwise race this thread
// releasing that last reference against the channel's teardown (gRPC 1.51
// then aborts in grpc_cq_internal_unref: "prior > 0").
template <typename Call>
void FinishAsyncCall(Call* call, const grpc::Status& status) {
  auto done = std::move(call->done);
  auto response = std::move(call->response);
  delete call;
  if (status.ok()) {
    std::move(done)(std::move(response));
  } else {
    std::move(done)(ToAbslStatus(status));
  }
}

}  // namespace

void RewardClient::GradeAsync(GradeRequest request, GradeCallback done) {
  using Call = AsyncCall<GradeRequest, GradeResponse, GradeCallback>;
  auto* call = new Call{{}, std::move(request), {}, std::move(done)};
  PrepareContext(call->context, true);
  PickChannel().stub->async()->Grade(
      &call->context, &call->request, &call->response,
      [call](grpc::Status status) { FinishAsyncCall(call, status); });
}

void RewardClient::GradeGroupAsync(GradeGroupRequest request,
                                   GradeGroupCallback done) {
  using Call =
      AsyncCall<GradeGroupRequest, GradeGroupResponse, GradeGroupCallback>;
  auto* call = new Call{{}, std::move(request), {}, std::move(done)};
  PrepareContext(call->context, true);
  PickChannel().stub->async()->GradeGroup(
      &call->context, &call->request, &call->response,
      [call](grpc::Status status) { FinishAsyncCall(call, status); });
}

std::unique_ptr<GradeStreamSession> RewardClient::OpenStream(
    GradeStreamSession::Options options,
    GradeStreamSession::ResultCallback on_result) {
  auto context = std::make_unique<grpc::ClientContext>();
  PrepareContext(*context, /*with_deadline=*/false);
  return GradeStreamSession::Start(PickChannel().stub.get(), std::move(context),
                                   options, std::move(on_result));
}

absl::StatusOr<std::vector<absl::StatusOr<GradeResponse>>>
RewardClient::GradeStreamAll(std::vector<GradeRequest> requests, int window) {
  absl::flat_hash_map<std::string, size_t> index;
  index.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string& id = requests[i].request_id();
    if (id.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request ", i, " has no request_id"));
    }
    if (!index.emplace(id, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_id \"", id, "\" appears twice"));
    }
  }
  std::vector<absl::StatusOr<GradeResponse>> results(
      requests.size(), absl::UnknownError("not sent"));
  // The callbacks write disjoint slots and never overlap each other; Finish
  // returns only after the last one, which orders them before our reads.
  GradeStreamSession::Options stream_options;
  stream_options.window = window;
  std::unique_ptr<GradeStreamSession> session = OpenStream(
      stream_options,
      [&](const std::string& id, absl::StatusOr<GradeResponse> result) {
        auto it = index.find(id);
        if (it != index.end()) results[it->second] = std::move(result);
      });
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::Status sent = session->Send(std::move(requests[i]));
    if (!sent.ok()) {
      // The stream ended: this and every later request were never sent.
      for (size_t j = i; j < requests.size(); ++j) results[j] = sent;
      break;
    }
  }
  session->Finish().IgnoreError();  // per-item statuses carry it
  return results;
}

}  // namespace rewardd
