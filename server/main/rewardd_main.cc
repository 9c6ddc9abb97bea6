// rewardd: the rubric reward server. See README.md and `rewardd --help`.
// main() parses the flags (flags.h) and runs one Server (server.h) until
// SIGTERM/SIGINT (drain, exit 0); SIGHUP re-reads the rubric directory.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/main/flags.h"
#include "server/main/server.h"
#include "server/util/log.h"

namespace rewardd {
namespace {

// Blocks the signals rewardd handles (sigwait in RunServer) in this thread
// and so in every thread started later, which inherits the mask.
sigset_t BlockHandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int RunServer(const ServerOptions& options) {
  // Before gRPC or the store start threads.
  const sigset_t signals = BlockHandledSignals();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
  if (!server.ok()) return 1;  // Create() logged why
  for (int signal = 0;;) {
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) {
      Log(LogLevel::kInfo, "draining",
          {{"signal", absl::StrCat(signal)},
           {"drain_seconds",
            absl::StrCat(absl::ToInt64Seconds(options.drain_timeout))}});
      break;
    }
    Log(LogLevel::kInfo, "sighup_reload");
    (*server)->ReloadRubrics();
  }
  (*server)->Drain();
  return 0;
}

}  // namespace
}  // namespace rewardd

int main(int argc, char** argv) {
  // Debian's abseil checks every Mutex acquisition against a global lock
  // graph (3x the cost of a lock); rewardd's lock order is fixed and tested.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  rewardd::SetFlagsUsage();
  absl::SetProgramUsageMessage(
      "rewardd: the rubric reward server for RL post-training.\n"
      "Serves reward.v1.RewardService over gRPC; see README.md.\n"
      "The default judge, 'embedded', decides machine-checkable criteria "
      "exactly and the rest with a lexical heuristic that is for offline "
      "runs and tests only, not a substitute for an LLM judge.\n"
      "Usage: rewardd --rubric_dir=examples/rubrics [--listen=0.0.0.0:50051]");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<rewardd::LogLevel> level = rewardd::LogLevelFromFlags();
  if (!level.ok()) {
    std::fprintf(stderr, "%s\n", std::string(level.status().message()).c_str());
    return 2;
  }
  rewardd::SetLogLevel(*level);
  absl::StatusOr<rewardd::ServerOptions> options =
      rewardd::ServerOptionsFromFlags();
  if (!options.ok()) return 1;  // logged as bad_flag
  return rewardd::RunServer(*options);
}
