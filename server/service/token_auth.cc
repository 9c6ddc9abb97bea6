#include "server/service/token_auth.h"

#include <openssl/crypto.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rewardd {

absl::StatusOr<TokenAuth> TokenAuth::FromFiles(
    const std::vector<std::string>& paths) {
  std::vector<std::string> tokens;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read token file '", path, "'"));
    }
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view token = absl::StripAsciiWhitespace(line);
      if (token.empty() || absl::StartsWith(token, "#")) continue;
      tokens.emplace_back(token);
    }
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(
        "the token files hold no token; auth would refuse every request");
  }
  return TokenAuth(std::move(tokens));
}

TokenAuth::TokenAuth(std::vector<std::string> tokens)
    : tokens_(std::move(tokens)) {}

absl::Status TokenAuth::Check(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing 'authorization: Bearer <token>' metadata");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ") &&
      !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError(
        "the authorization metadata must be 'Bearer <token>'");
  }
  bool match = false;
  for (const std::string& token : tokens_) {
    // Every token is compared, and each comparison takes the same time for
    // a given length, so timing reveals neither which token nor which byte.
    if (token.size() == value.size() &&
        CRYPTO_memcmp(token.data(), value.data(), token.size()) == 0) {
      match = true;
    }
  }
  if (!match) return absl::UnauthenticatedError("invalid bearer token");
  return absl::OkStatus();
}

}  // namespace rewardd
