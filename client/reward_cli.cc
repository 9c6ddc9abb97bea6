// reward-cli: command-line client of rewardd (grade JSONL files, list and
// show rubrics, check health, generate / refine / evaluate rubrics, list the
// rubrics that saturate). The commands live in client/cli/, one file each;
// this file holds the connection flags and the table of commands. See
// docs/client.md and docs/rubric-refinement.md; `reward-cli --help`.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/command.h"
#include "client/cli/eval_rubrics_command.h"
#include "client/cli/generate_command.h"
#include "client/cli/get_command.h"
#include "client/cli/grade_command.h"
#include "client/cli/health_command.h"
#include "client/cli/list_command.h"
#include "client/cli/refine_command.h"
#include "client/cli/report_command.h"
#include "client/cli/saturated_command.h"
#include "client/cli/tail_dataset_command.h"
#include "client/reward_client.h"
#include "server/util/status_macros.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "Server(s): host:port, a comma-separated list of host:port "
          "(calls are spread round-robin), or a gRPC URI such as "
          "dns:///rewardd.ml.svc:50051.");
ABSL_FLAG(double, deadline_seconds, 60,
          "Deadline of each unary call (grade in unary/group mode, list, "
          "get, health), retries included. Streams have none.");
ABSL_FLAG(int, max_attempts, 4,
          "Attempts per call for calls failing with UNAVAILABLE (1 = no "
          "retry; at most 5). Backoff is exponential with jitter.");
ABSL_FLAG(bool, wait_for_ready, false,
          "Wait (up to the deadline) for a server to come up instead of "
          "failing at once when none is reachable.");
ABSL_FLAG(std::string, token, "",
          "Bearer token sent as 'authorization: Bearer <token>'. Defaults "
          "to $REWARDD_TOKEN (prefer it: flags show up in ps).");
ABSL_FLAG(bool, tls, false, "Use TLS to reach the server.");
ABSL_FLAG(std::string, tls_ca, "",
          "With --tls: PEM file of root certificates to trust (default: "
          "the system's).");
ABSL_FLAG(std::string, tls_client_cert, "",
          "With --tls, for servers that require client certificates "
          "(rewardd --tls_client_ca_file): PEM file of this client's "
          "certificate chain. Needs --tls_client_key.");
ABSL_FLAG(std::string, tls_client_key, "",
          "With --tls_client_cert: PEM file of its private key.");

namespace {

constexpr char kUsageHead[] =
    R"(command-line client of the rewardd reward server.

Usage: reward-cli <command> [flags]

Commands:
)";

// The commands, in the order --help lists them. Adding one: a new file in
// client/cli/ exporting a Command, and a row here.
const rewardd::cli::Command* const kCommands[] = {
    &rewardd::cli::kGradeCommand,       &rewardd::cli::kListCommand,
    &rewardd::cli::kGetCommand,         &rewardd::cli::kHealthCommand,
    &rewardd::cli::kGenerateCommand,    &rewardd::cli::kRefineCommand,
    &rewardd::cli::kEvalRubricsCommand, &rewardd::cli::kSaturatedCommand,
};

// Exit code for an unknown command or a bad connection flag.
constexpr int kExitUsage = 2;

std::string Usage() {
  std::string usage = kUsageHead;
  for (const rewardd::cli::Command* c : kCommands) {
    absl::StrAppend(&usage, c->usage, "\n");
  }
  // Commands that read local files only (no server): tail-dataset, report.
  absl::StrAppend(&usage, rewardd::cli::kTailDatasetUsage,
                  rewardd::cli::kReportUsage);
  absl::StrAppend(&usage,
                  "\nEach command documents its exit codes above. The "
                  "connection flags\n(--target, --token, --tls...) apply to "
                  "every command.");
  return usage;
}

const rewardd::cli::Command* FindCommand(absl::string_view name) {
  for (const rewardd::cli::Command* c : kCommands) {
    if (name == c->name) return c;
  }
  return nullptr;
}

bool IsCliFlagFile(absl::string_view file) {
  return absl::StrContains(file, "reward_cli") ||
         absl::StrContains(file, "client/cli/");
}

// The whole of a PEM file named by `flag`; an error naming the flag and
// path when it cannot be read or is empty (a typo would otherwise surface
// later as a vague TLS handshake failure).
absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return absl::NotFoundError(
        absl::StrCat(flag, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream pem;
  pem << f.rdbuf();
  if (f.bad() || pem.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is empty or unreadable"));
  }
  return pem.str();
}

absl::StatusOr<std::unique_ptr<rewardd::RewardClient>> MakeClient() {
  rewardd::RewardClient::Options options;
  options.target = absl::GetFlag(FLAGS_target);
  options.deadline = absl::Seconds(absl::GetFlag(FLAGS_deadline_seconds));
  options.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  options.wait_for_ready = absl::GetFlag(FLAGS_wait_for_ready);
  options.bearer_token = absl::GetFlag(FLAGS_token);
  if (options.bearer_token.empty()) {
    if (const char* env = std::getenv("REWARDD_TOKEN")) {
      options.bearer_token = env;
    }
  }
  options.use_tls = absl::GetFlag(FLAGS_tls);
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    REWARDD_ASSIGN_OR_RETURN(options.tls_root_certs_pem,
                             ReadPemFile("--tls_ca", ca));
  }
  const std::string cert = absl::GetFlag(FLAGS_tls_client_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_client_key);
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_cert and --tls_client_key go together: give both or "
        "neither");
  }
  if (!cert.empty()) {
    if (!options.use_tls) {
      return absl::InvalidArgumentError(
          "--tls_client_cert/--tls_client_key need --tls");
    }
    REWARDD_ASSIGN_OR_RETURN(options.tls_client_cert_pem,
                             ReadPemFile("--tls_client_cert", cert));
    REWARDD_ASSIGN_OR_RETURN(options.tls_client_key_pem,
                             ReadPemFile("--tls_client_key", key));
  }
  return rewardd::RewardClient::Create(options);
}

}  // namespace

int main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsCliFlagFile;
  config.contains_helpshort_flags = IsCliFlagFile;
  absl::SetFlagsUsageConfig(config);
  const std::string usage = Usage();
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "%s\n\nSee reward-cli --help for the flags.\n",
                 usage.c_str());
    return kExitUsage;
  }
  // Commands that read local files only: no client, no server. report
  // reads argv itself (absl keeps only the last of a repeated --eval).
  const absl::string_view name = args[1];
  if (name == "tail-dataset") return rewardd::cli::RunTailDatasetCommand();
  if (name == "report") return rewardd::cli::RunReportCommand(argc, argv);
  const rewardd::cli::Command* command = FindCommand(args[1]);
  if (command == nullptr) {
    std::fprintf(stderr, "reward-cli: unknown command \"%s\"\n\n%s\n", args[1],
                 usage.c_str());
    return kExitUsage;
  }
  if (args.size() > 2 && !command->takes_args) {
    std::fprintf(stderr, "reward-cli: unexpected argument \"%s\"\n", args[2]);
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<rewardd::RewardClient>> client = MakeClient();
  if (!client.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n",
                 client.status().ToString().c_str());
    return kExitUsage;
  }
  rewardd::cli::CommandContext context{**client, {}};
  for (size_t i = 2; i < args.size(); ++i) context.args.emplace_back(args[i]);
  const int code = command->run(context);
  // Everything is written (Grade closed its output file). Exit without
  // tearing the channel down: gRPC 1.51 can abort in that teardown
  // ("ref_counted.h:183 assertion failed: prior > 0") after a refused mutual
  // TLS handshake (grpc/grpc#31095), which turned exit code 1 into 134 in
  // security_test about once in a few hundred runs.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}
