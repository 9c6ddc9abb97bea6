// A self-signed certificate for "localhost" and 127.0.0.1, made by the
// openssl CLI, for tests that serve TLS on loopback.
//
//   TempDir dir;
//   ASSERT_TRUE(WriteSelfSignedCert(dir.path()));  // cert.pem, key.pem
//
// Thread-safety: writes files in `dir`; one caller per directory.
#ifndef REWARDD_TESTS_INTEGRATION_SELF_SIGNED_CERT_H_
#define REWARDD_TESTS_INTEGRATION_SELF_SIGNED_CERT_H_

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace rewardd::testing {

// Writes dir/cert.pem and dir/key.pem; false when openssl failed.
inline bool WriteSelfSignedCert(const std::string& dir) {
  const std::string cmd =
      absl::StrCat("cd ", dir,
                   " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
                   "-subj /CN=localhost"
                   " -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                   " -keyout key.pem -out cert.pem >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0;
}

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_INTEGRATION_SELF_SIGNED_CERT_H_
