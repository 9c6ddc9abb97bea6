#include "server/service/admission.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/util/status_macros.h"

namespace rewardd {

absl::Status Admission::DrainingError() {
  return absl::UnavailableError(
      "rewardd is draining (shutting down); retry on another replica");
}

absl::Status Admission::Admit(grpc::CallbackServerContext* context) const {
  // The context is read only when auth is on (tests pass none without).
  static const auto* const kNoMetadata =
      new std::multimap<grpc::string_ref, grpc::string_ref>();
  return Admit(options_.auth != nullptr ? context->client_metadata()
                                        : *kNoMetadata);
}

absl::Status Admission::Admit(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  if (draining()) return DrainingError();
  if (options_.auth != nullptr) {
    REWARDD_RETURN_IF_ERROR(options_.auth->Check(metadata));
  }
  // in_flight() counts this RPC already.
  if (static_cast<size_t>(in_flight()) > options_.max_inflight_requests) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rewardd has ", in_flight() - 1, " requests in flight; the limit is ",
        options_.max_inflight_requests,
        " (--max_inflight_requests); retry with backoff or on another "
        "replica"));
  }
  return absl::OkStatus();
}

absl::Status Admission::AdmitStream() const {
  // open_streams_ counts this stream already.
  const int64_t open = open_streams_.load(std::memory_order_acquire);
  if (static_cast<size_t>(open) > options_.max_concurrent_streams) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rewardd has ", open - 1, " GradeStreams open; the limit is ",
        options_.max_concurrent_streams,
        " (--max_concurrent_streams); reuse a stream or retry later"));
  }
  return absl::OkStatus();
}

bool Admission::WaitIdle(absl::Time deadline) const {
  while (in_flight() > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace rewardd
