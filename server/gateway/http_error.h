// How the HTTP gateway reports errors: the one mapping from a gRPC (= absl)
// status code to an HTTP status, and the JSON error body
//   {"error": {"code": "INVALID_ARGUMENT", "message": "..."}}
//
//   HttpError e = HttpErrorFromStatus(absl::InvalidArgumentError("labels[0]"));
//   res.status = e.http_status; res.set_content(e.Body(), "application/json");
//
// Thread-safety: pure functions and a value type.
#ifndef REWARDD_SERVER_GATEWAY_HTTP_ERROR_H_
#define REWARDD_SERVER_GATEWAY_HTTP_ERROR_H_

#include <string>

#include "absl/status/status.h"

namespace rewardd {

// INVALID_ARGUMENT 400, NOT_FOUND 404, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503,
// DEADLINE_EXCEEDED 504, anything else 500. `code` is a grpc::StatusCode or
// absl::StatusCode value (the two enums share their numbers).
int HttpStatusForCode(int code);

struct HttpError {
  int http_status = 500;
  std::string code;  // e.g. "INVALID_ARGUMENT", "INVALID_RESULT"
  std::string message;

  // The JSON body.
  std::string Body() const;
};

// An error status mapped with HttpStatusForCode (OK is a caller bug: 500).
HttpError HttpErrorFromStatus(const absl::Status& status);

// A graded result that must not be used as a reward (GradeResponse.valid is
// false): 502, code INVALID_RESULT. Never reported as a reward of 0.
HttpError InvalidResultError(const std::string& message);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_HTTP_ERROR_H_
