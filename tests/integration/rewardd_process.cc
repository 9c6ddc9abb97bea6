#include "tests/integration/rewardd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace rewardd::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/rewardd-test-XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::string& name, const std::string& content) const {
  const std::filesystem::path target = std::filesystem::path(path_) / name;
  const std::filesystem::path tmp =
      target.parent_path() / (".tmp-" + target.filename().string());
  std::filesystem::create_directories(target.parent_path());
  { std::ofstream(tmp) << content; }
  std::filesystem::rename(tmp, target);
}

RewarddProcess::RewarddProcess(std::vector<std::string> args,
                               std::string binary)
    : args_(std::move(args)), binary_(std::move(binary)) {
  char tmpl[] = "/tmp/rewardd-proc-XXXXXX";
  dir_ = mkdtemp(tmpl);
}

RewarddProcess::~RewarddProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status RewarddProcess::Start(absl::Duration timeout) {
  const std::string port_file = dir_ + "/port";
  const std::string log_file = dir_ + "/stderr.log";
  std::vector<std::string> argv_s = {binary_, "--listen=127.0.0.1:0",
                                     "--port_file=" + port_file};
  // A free metrics port unless the test chose one: the default 9464 would
  // collide between rewardd processes running at once.
  bool metrics_given = false;
  for (const std::string& a : args_) {
    if (a.rfind("--metrics_listen", 0) == 0) metrics_given = true;
  }
  if (!metrics_given) argv_s.push_back("--metrics_listen=127.0.0.1:0");
  argv_s.insert(argv_s.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    // Die with the test: a crashed test must not leave rewardd running (or
    // holding ctest's output pipe open).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const std::string port = ReadFile(port_file);
    if (!port.empty()) {
      port_ = std::atoi(port.c_str());
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("rewardd exited during start-up: ", Log()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("rewardd did not listen in time: " +
                                     Log());
}

void RewarddProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int RewarddProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (pid_ > 0 && absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return -1;
}

std::string RewarddProcess::Log() const {
  return ReadFile(dir_ + "/stderr.log");
}

}  // namespace rewardd::testing
