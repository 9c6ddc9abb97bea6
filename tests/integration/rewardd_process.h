// Starts a real rewardd binary on a loopback port for integration tests and
// stops it. The port is picked by the kernel (--listen=127.0.0.1:0) and read
// back from --port_file, so tests never collide on ports.
//
//   RewarddProcess server({"--rubric_dir=" + dir});
//   ASSERT_TRUE(server.Start().ok());
//   RewardClient client(server.address());
//   ...
//   server.Signal(SIGTERM); int code = server.Wait();
//
// Thread-safety: not thread-safe; owned by one test.
#ifndef REWARDD_TESTS_INTEGRATION_REWARDD_PROCESS_H_
#define REWARDD_TESTS_INTEGRATION_REWARDD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace rewardd::testing {

class RewarddProcess {
 public:
  // `args` are extra flags; --listen and --port_file are added.
  explicit RewarddProcess(std::vector<std::string> args,
                          std::string binary = std::string(REWARDD_BINARY_DIR) +
                                               "/server/main/rewardd");
  ~RewarddProcess();  // SIGKILLs a process still running

  // Starts the process and waits until it listens (not necessarily SERVING).
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  void Signal(int signal);
  // Waits for exit; returns the exit code, or 128+signal, or -1 on timeout.
  int Wait(absl::Duration timeout = absl::Seconds(60));

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // What the process wrote to stderr so far (its JSON log lines).
  std::string Log() const;

 private:
  std::vector<std::string> args_;
  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name atomically (write + rename).
  void Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Reads a whole file ("" when absent).
std::string ReadFile(const std::string& path);

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_INTEGRATION_REWARDD_PROCESS_H_
