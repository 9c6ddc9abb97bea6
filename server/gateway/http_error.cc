#include "server/gateway/http_error.h"

#include "nlohmann/json.hpp"

namespace rewardd {

int HttpStatusForCode(int code) {
  switch (static_cast<absl::StatusCode>(code)) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string HttpError::Body() const {
  // dump() with replace: a message quoting bad input must not throw on
  // invalid UTF-8.
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpError HttpErrorFromStatus(const absl::Status& status) {
  HttpError e;
  e.http_status =
      status.ok() ? 500 : HttpStatusForCode(static_cast<int>(status.code()));
  e.code = absl::StatusCodeToString(status.code());
  e.message = std::string(status.message());
  return e;
}

HttpError InvalidResultError(const std::string& message) {
  return HttpError{502, "INVALID_RESULT", message};
}

}  // namespace rewardd
