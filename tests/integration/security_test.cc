// Security over loopback against a real rewardd: bearer-token auth on the
// RewardService (health stays open) and TLS with a certificate made for the
// test by the openssl CLI.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/reward_cli_run.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/self_signed_cert.h"
#include "tests/integration/test_requests.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::OneShotClient;
using ::rewardd::testing::ParisRequest;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::rewardd::testing::WriteSelfSignedCert;

pb::GradeRequest Request() { return ParisRequest("sec"); }

std::unique_ptr<RewardClient> Client(RewardClient::Options options) {
  return OneShotClient(std::move(options));
}

using CliRun = ::rewardd::testing::CliRun;

// Runs reward-cli with `args` and one-shot retry/deadline settings, so a
// refused handshake fails at once.
CliRun RunCli(const TempDir& dir, std::vector<std::string> args) {
  args.push_back("--max_attempts=1");
  args.push_back("--deadline_seconds=10");
  return ::rewardd::testing::RunRewardCli(dir, args);
}

TEST(TokenAuth, RewardServiceNeedsAValidTokenHealthStaysOpen) {
  TempDir dir;
  dir.Write("old.tokens", "# rotated out next week\nold-token-1234\n");
  dir.Write("new.tokens", "new-token-5678\n");
  RewarddProcess server(
      {absl::StrCat("--auth_token_files=", dir.path(), "/old.tokens,",
                    dir.path(), "/new.tokens")});
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  RewardClient::Options options;
  options.target = server.address();

  auto anonymous = Client(options);
  auto health = anonymous->Health("");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, grpc::health::v1::HealthCheckResponse::SERVING);
  auto denied = anonymous->Grade(Request());
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->ListRubricSets().status().code(),
            absl::StatusCode::kUnauthenticated);
  // Streams are refused as a whole, with the stream's own status.
  auto session = anonymous->OpenStream(
      {}, [](std::string, absl::StatusOr<pb::GradeResponse>) {});
  (void)session->Send(Request());
  EXPECT_EQ(session->Finish().code(), absl::StatusCode::kUnauthenticated);

  options.bearer_token = "new-token-567";  // a prefix of a real token
  auto wrong = Client(options)->Grade(Request());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(wrong.status().message()),
              ::testing::Not(::testing::HasSubstr("new-token")));

  for (const char* token : {"old-token-1234", "new-token-5678"}) {
    options.bearer_token = token;
    auto ok = Client(options)->Grade(Request());
    ASSERT_TRUE(ok.ok()) << token << ": " << ok.status();
    EXPECT_DOUBLE_EQ(ok->reward(), 1.0);
  }
  // Tokens never reach the logs.
  EXPECT_THAT(server.Log(), ::testing::Not(::testing::HasSubstr("token-1234")));
}

TEST(TokenAuth, AnEmptyTokenFileRefusesToStart) {
  TempDir dir;
  dir.Write("empty.tokens", "# nothing\n");
  RewarddProcess server({"--auth_token_files=" + dir.path() + "/empty.tokens"});
  EXPECT_FALSE(server.Start(absl::Seconds(10)).ok());
}

TEST(Tls, ServesOverTlsAndRefusesPlaintext) {
  TempDir dir;
  ASSERT_TRUE(WriteSelfSignedCert(dir.path())) << "openssl failed";
  RewarddProcess server({"--tls_cert_file=" + dir.path() + "/cert.pem",
                         "--tls_key_file=" + dir.path() + "/key.pem"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();

  RewardClient::Options options;
  options.target = server.address();
  options.use_tls = true;
  options.tls_root_certs_pem = ReadFile(dir.path() + "/cert.pem");
  auto ok = Client(options)->Grade(Request());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_DOUBLE_EQ(ok->reward(), 1.0);

  options.use_tls = false;
  auto plaintext = Client(options)->Grade(Request());
  EXPECT_EQ(plaintext.status().code(), absl::StatusCode::kUnavailable);
}

TEST(Tls, MutualTlsNeedsAClientCertificateFromTheCa) {
  TempDir dir;
  // A CA, a server certificate and a client certificate signed by it.
  const std::string cmd = absl::StrCat(
      "cd ", dir.path(), " && (",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca"
      " -keyout ca.key -out ca.pem"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost"
      " -keyout server.key -out server.csr"
      " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
      " -CAcreateserial -days 2 -extfile san.ext -out server.pem"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=rollout-worker"
      " -keyout client.key -out client.csr"
      " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key"
      " -CAcreateserial -days 2 -out client.pem",
      ") >/dev/null 2>&1");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
  RewarddProcess server({"--tls_cert_file=" + dir.path() + "/server.pem",
                         "--tls_key_file=" + dir.path() + "/server.key",
                         "--tls_client_ca_file=" + dir.path() + "/ca.pem"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();

  RewardClient::Options options;
  options.target = server.address();
  options.use_tls = true;
  options.tls_root_certs_pem = ReadFile(dir.path() + "/ca.pem");
  auto anonymous = Client(options)->Grade(Request());
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnavailable);

  options.tls_client_cert_pem = ReadFile(dir.path() + "/client.pem");
  options.tls_client_key_pem = ReadFile(dir.path() + "/client.key");
  auto ok = Client(options)->Grade(Request());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_DOUBLE_EQ(ok->reward(), 1.0);

  // The same through reward-cli's flags: a graded line with the
  // certificate, a refused handshake without it, usage errors for half a
  // pair or an unreadable file.
  dir.Write("requests.jsonl",
            R"({"request_id": "cli", "response": "Paris", "rubric": )"
            R"({"criteria": [{"id": "paris", "text": "Names Paris", )"
            R"("weight": 1, "check": {"kind": "CONTAINS", )"
            R"("values": ["Paris"]}}]}})"
            "\n");
  const std::vector<std::string> tls = {
      "grade", "--target=" + server.address(), "--tls",
      "--tls_ca=" + dir.path() + "/ca.pem",
      "--input=" + dir.path() + "/requests.jsonl"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = tls;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  CliRun graded =
      RunCli(dir, with({"--tls_client_cert=" + dir.path() + "/client.pem",
                        "--tls_client_key=" + dir.path() + "/client.key"}));
  EXPECT_EQ(graded.exit_code, 0) << graded.err;
  EXPECT_THAT(graded.out, ::testing::HasSubstr(R"("request_id":"cli")"));
  EXPECT_THAT(graded.out, ::testing::HasSubstr(R"("reward":1)"));

  CliRun no_cert = RunCli(dir, tls);
  EXPECT_EQ(no_cert.exit_code, 1) << no_cert.err;
  // UNAVAILABLE (14): the server refuses the handshake.
  EXPECT_THAT(no_cert.out, ::testing::HasSubstr(R"("code":14)"));

  CliRun half =
      RunCli(dir, with({"--tls_client_cert=" + dir.path() + "/client.pem"}));
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_THAT(half.err, ::testing::HasSubstr("--tls_client_key"));

  CliRun missing =
      RunCli(dir, with({"--tls_client_cert=" + dir.path() + "/nope.pem",
                        "--tls_client_key=" + dir.path() + "/client.key"}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, ::testing::HasSubstr(dir.path() + "/nope.pem"));
}

}  // namespace
}  // namespace rewardd
