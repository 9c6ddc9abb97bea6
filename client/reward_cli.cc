// reward-cli: command-line client of rewardd (grade JSONL files, list and
// show rubrics, check health). See docs/client.md; `reward-cli --help`.
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

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
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/cli/report_command.h"
#include "client/cli/tail_dataset_command.h"
#include "client/jsonl_grader.h"
#include "client/progress.h"
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

ABSL_FLAG(std::string, input, "-",
          "grade: JSONL of requests, one per line ('-' = stdin). Lines are "
          "reward.v1.GradeRequest in proto JSON (GradeGroupRequest with "
          "--mode=group); blank lines are skipped.");
ABSL_FLAG(std::string, output, "-",
          "grade: where results go, one JSON per request in input order "
          "('-' = stdout). A failed line gives "
          "{\"line\":N,\"request_id\":...,\"error\":{\"code\":N,"
          "\"message\":...}}.");
ABSL_FLAG(std::string, mode, "unary",
          "grade: unary (one Grade call per line), group (one GradeGroup "
          "call per line) or stream (one GradeStream for all lines; lines "
          "without request_id get \"line-<N>\").");
ABSL_FLAG(int, concurrency, 16,
          "grade: requests in flight at once (stream mode: the stream's "
          "window). Also bounds results buffered to keep input order.");
ABSL_FLAG(bool, progress, false,
          "grade: draw a progress bar on stderr even when stderr is not a "
          "terminal (it is drawn on a terminal anyway, unless --quiet).");
ABSL_FLAG(bool, quiet, false, "grade: no progress bar.");
ABSL_FLAG(bool, summary, false,
          "grade: print a table of rewards per request and totals on "
          "stderr at the end.");
ABSL_FLAG(int, summary_rows, 50, "grade: most rows in the --summary table.");
ABSL_FLAG(bool, ignore_unknown_fields, false,
          "grade: accept JSON fields that are not in the request message "
          "(default: such a line fails, which catches typos).");

ABSL_FLAG(std::string, set, "", "get: the rubric set.");
ABSL_FLAG(std::string, id, "", "get: the rubric id within --set.");
ABSL_FLAG(bool, json, false, "list: print JSON instead of a table.");
ABSL_FLAG(std::string, service, "",
          "health: the service to check: '' (the whole server) or "
          "reward.v1.RewardService.");

namespace {

constexpr char kUsageHead[] =
    R"(command-line client of the rewardd reward server.

Usage: reward-cli <command> [flags]

Commands:
  grade   Grade a JSONL file of requests; write one JSON result per line.
            reward-cli grade --target=host:port --input=requests.jsonl \
                --output=results.jsonl [--mode=unary|group|stream] \
                [--concurrency=16] [--summary] [--progress]
  list    The rubric sets loaded on the server (name, format, rubrics,
          criteria, version).
  get     One rubric as JSON: reward-cli get --set=NAME --id=RUBRIC_ID
  health  Prints SERVING / NOT_SERVING / ...; exit code 0 only if SERVING.
)";
constexpr char kUsageTail[] = R"(
Exit codes: 0 = success; 1 = some grade lines failed (parse error, RPC
error, or an item error on a stream), an RPC failed, or health is not
SERVING; 2 = bad usage or a file that cannot be read or written.
An invalid reward (valid=false) is a result, not a failure.)";

std::string Usage() {
  return absl::StrCat(kUsageHead, rewardd::cli::kTailDatasetUsage,
                      rewardd::cli::kReportUsage, kUsageTail);
}

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

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

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "reward-cli: %s\n", status.ToString().c_str());
  return kExitFailed;
}

// Lines of a regular file, for the progress bar's total; -1 otherwise.
int64_t CountLines(const std::string& path) {
  if (path == "-") return -1;
  std::ifstream f(path);
  if (!f) return -1;
  int64_t n = 0;
  std::string line;
  while (std::getline(f, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
  }
  return n;
}

int Grade(rewardd::RewardClient& client) {
  rewardd::JsonlGradeOptions options;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "unary") {
    options.mode = rewardd::JsonlGradeOptions::Mode::kUnary;
  } else if (mode == "group") {
    options.mode = rewardd::JsonlGradeOptions::Mode::kGroup;
  } else if (mode == "stream") {
    options.mode = rewardd::JsonlGradeOptions::Mode::kStream;
  } else {
    std::fprintf(stderr, "reward-cli: --mode must be unary, group or stream\n");
    return kExitUsage;
  }
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.ignore_unknown_fields = absl::GetFlag(FLAGS_ignore_unknown_fields);
  options.summary_rows = absl::GetFlag(FLAGS_summary_rows);

  const std::string input = absl::GetFlag(FLAGS_input);
  const std::string output = absl::GetFlag(FLAGS_output);
  std::ifstream in_file;
  if (input != "-") {
    in_file.open(input);
    if (!in_file) {
      std::fprintf(stderr, "reward-cli: cannot read %s\n", input.c_str());
      return kExitUsage;
    }
  }
  std::ofstream out_file;
  if (output != "-") {
    out_file.open(output, std::ios::trunc);
    if (!out_file) {
      std::fprintf(stderr, "reward-cli: cannot write %s\n", output.c_str());
      return kExitUsage;
    }
  }
  std::istream& in = input == "-" ? std::cin : in_file;
  std::ostream& out = output == "-" ? std::cout : out_file;

  std::unique_ptr<rewardd::ProgressBar> progress;
  const bool show_progress =
      !absl::GetFlag(FLAGS_quiet) &&
      (absl::GetFlag(FLAGS_progress) || isatty(STDERR_FILENO));
  if (show_progress) {
    progress = std::make_unique<rewardd::ProgressBar>(CountLines(input));
    options.progress = progress.get();
    progress->Start();
  }
  absl::StatusOr<rewardd::JsonlGradeStats> stats =
      rewardd::GradeJsonl(client, options, in, out);
  if (progress != nullptr) progress->Stop();
  if (!stats.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n", stats.status().ToString().c_str());
    return kExitUsage;
  }
  if (absl::GetFlag(FLAGS_summary)) {
    std::fputs(rewardd::FormatSummary(*stats).c_str(), stderr);
  } else if (stats->failed > 0) {
    std::fprintf(stderr, "reward-cli: %lld of %lld lines failed\n",
                 static_cast<long long>(stats->failed),
                 static_cast<long long>(stats->lines));
  }
  return stats->failed > 0 ? kExitFailed : 0;
}

int List(rewardd::RewardClient& client) {
  absl::StatusOr<reward::v1::ListRubricSetsResponse> sets =
      client.ListRubricSets();
  if (!sets.ok()) return Fail(sets.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(*sets, &json, print);
    std::fputs(json.c_str(), stdout);
    return 0;
  }
  std::printf("%-24s %-16s %8s %9s  %-16s %s\n", "NAME", "FORMAT", "RUBRICS",
              "CRITERIA", "VERSION", "LOADED");
  for (const reward::v1::RubricSetInfo& s : sets->sets()) {
    std::string loaded =
        s.loaded_at_unix() > 0
            ? absl::FormatTime("%Y-%m-%d %H:%M:%S",
                               absl::FromUnixSeconds(s.loaded_at_unix()),
                               absl::LocalTimeZone())
            : std::string("-");
    std::printf("%-24s %-16s %8u %9u  %-16s %s\n", s.name().c_str(),
                s.format().c_str(), s.rubric_count(), s.criterion_count(),
                s.version().c_str(), loaded.c_str());
  }
  return 0;
}

int Get(rewardd::RewardClient& client) {
  const std::string set = absl::GetFlag(FLAGS_set);
  const std::string id = absl::GetFlag(FLAGS_id);
  if (set.empty() || id.empty()) {
    std::fprintf(stderr, "reward-cli: get needs --set and --id\n");
    return kExitUsage;
  }
  absl::StatusOr<reward::v1::GetRubricResponse> rubric =
      client.GetRubric(set, id);
  if (!rubric.ok()) return Fail(rubric.status());
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(*rubric, &json, print);
  std::fputs(json.c_str(), stdout);
  return 0;
}

int Health(rewardd::RewardClient& client) {
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> status =
      client.Health(absl::GetFlag(FLAGS_service));
  if (!status.ok()) return Fail(status.status());
  std::printf("%s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(*status)
                  .c_str());
  return *status == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : kExitFailed;
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
  if (args.size() != 2) {
    std::fprintf(stderr, "%s\n\nSee reward-cli --help for the flags.\n",
                 usage.c_str());
    return kExitUsage;
  }
  const std::string command = args[1];
  // Commands that read local files only: no client, no server.
  if (command == "tail-dataset") return rewardd::cli::RunTailDatasetCommand();
  if (command == "report") return rewardd::cli::RunReportCommand(argc, argv);
  if (command != "grade" && command != "list" && command != "get" &&
      command != "health") {
    std::fprintf(stderr, "reward-cli: unknown command \"%s\"\n\n%s\n",
                 command.c_str(), usage.c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<rewardd::RewardClient>> client = MakeClient();
  if (!client.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n",
                 client.status().ToString().c_str());
    return kExitUsage;
  }
  int code = 0;
  if (command == "grade") {
    code = Grade(**client);
  } else if (command == "list") {
    code = List(**client);
  } else if (command == "get") {
    code = Get(**client);
  } else {
    code = Health(**client);
  }
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
