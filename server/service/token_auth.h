// Bearer-token authentication for the RewardService: a request must carry
// "authorization: Bearer <token>" with one of the configured tokens. Several
// tokens may be valid at once, so they can be rotated without downtime (add
// the new one, move clients, remove the old one). Health and reflection stay
// open: they are separate services and never consult this.
//
//   absl::StatusOr<TokenAuth> auth =
//       TokenAuth::FromFiles({"/etc/rewardd/tokens"});
//   absl::Status s = auth->Check(context->client_metadata());
//
// Token files hold one token per line; blank lines and lines starting with
// '#' are ignored. Comparison is constant-time in the token's content, so a
// caller cannot learn a token byte by byte from response times.
//
// Thread-safety: immutable after construction; Check() may be called from
// any thread.
#ifndef REWARDD_SERVER_SERVICE_TOKEN_AUTH_H_
#define REWARDD_SERVER_SERVICE_TOKEN_AUTH_H_

#include <grpcpp/support/string_ref.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rewardd {

class TokenAuth {
 public:
  // Reads every file; fails when a file cannot be read or no token is found.
  static absl::StatusOr<TokenAuth> FromFiles(
      const std::vector<std::string>& paths);
  explicit TokenAuth(std::vector<std::string> tokens);

  // OK, or UNAUTHENTICATED with a message that never echoes the token sent.
  absl::Status Check(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

  size_t token_count() const { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_TOKEN_AUTH_H_
