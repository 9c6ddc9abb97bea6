// The HTTP call as the judge pool and the curl loop exchange it: a request
// (URL, body, shared headers, limits), its result (transport outcome, HTTP
// status, body, Retry-After) and the completion callback. Plain values; the
// loop that runs them is curl_multi_loop.h.
//
//   HttpRequest req;
//   req.url = "http://127.0.0.1:8000/v1/chat/completions";
//   req.body = R"({"model": "m", "messages": []})";
//   req.headers = HttpHeaders::Make({"Content-Type: application/json"});
//   HttpCallback done = [](HttpResult r) {
//     if (r.transport_ok() && r.status == 200) { ... }
//   };
//
// Thread-safety: HttpHeaders is immutable once made and may be shared by
// any number of threads; the structs are plain values.
#ifndef REWARDD_SERVER_JUDGE_HTTP_HTTP_TYPES_H_
#define REWARDD_SERVER_JUDGE_HTTP_HTTP_TYPES_H_

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace rewardd {

// An immutable list of request headers, shared by every call of a judge
// (built once, so a call does not rebuild the curl_slist). May hold an API
// key: it is never logged.
class HttpHeaders {
 public:
  static std::shared_ptr<const HttpHeaders> Make(
      const std::vector<std::string>& lines);
  ~HttpHeaders();
  HttpHeaders(const HttpHeaders&) = delete;
  HttpHeaders& operator=(const HttpHeaders&) = delete;

  // libcurl takes a non-const pointer but does not modify the list.
  curl_slist* list() const { return list_; }

 private:
  HttpHeaders() = default;
  curl_slist* list_ = nullptr;
};

struct HttpRequest {
  std::string url;
  std::string body;  // POSTed as is
  std::shared_ptr<const HttpHeaders> headers;
  // Whole-transfer timeout (connect + request + response); <= 0 = none.
  absl::Duration timeout = absl::Seconds(60);
  // A longer response body fails the transfer (CURLE_WRITE_ERROR, with an
  // error that says so) instead of growing the buffer further.
  size_t max_response_bytes = size_t{64} << 20;
};

struct HttpResult {
  CURLcode curl_code = CURLE_OK;  // transport outcome
  long status = 0;                // HTTP status when a response came back
  std::string body;
  // Retry-After (delta-seconds form) when the server sent one.
  std::optional<absl::Duration> retry_after;
  std::string error;  // libcurl's message when curl_code != CURLE_OK
  absl::Duration elapsed = absl::ZeroDuration();
  bool cancelled = false;  // Cancel() or Shutdown() ended it

  bool transport_ok() const { return curl_code == CURLE_OK && !cancelled; }
  bool timed_out() const { return curl_code == CURLE_OPERATION_TIMEDOUT; }
};

// Runs exactly once per submitted request.
using HttpCallback = absl::AnyInvocable<void(HttpResult) &&>;

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_HTTP_TYPES_H_
