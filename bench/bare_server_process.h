// What the bench's do-nothing servers (bare-server, bare-cq-server) do as
// processes: stop on SIGTERM/SIGINT taken synchronously by the main thread,
// and tell the scenarios their port (a file written atomically, a log line).
//
//   sigset_t stop = BlockStopSignals();   // before any thread starts
//   ... BuildAndStart() ...
//   AnnouncePort("bare-server", port, absl::GetFlag(FLAGS_port_file));
//   int signal = 0;
//   sigwait(&stop, &signal);
//
// Thread-safety: call from main() only.
#ifndef REWARDD_BENCH_BARE_SERVER_PROCESS_H_
#define REWARDD_BENCH_BARE_SERVER_PROCESS_H_

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace rewardd::bench {

// Blocks SIGTERM and SIGINT in this thread (and the threads it starts
// later) and returns them as a set for sigwait().
inline sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Writes `port` to `port_file` (when not empty) by rename, so a reader
// never sees half a number, and logs "<name> listening on port N".
inline void AnnouncePort(const char* name, int port,
                         const std::string& port_file) {
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::fprintf(stderr, "%s listening on port %d\n", name, port);
}

}  // namespace rewardd::bench

#endif  // REWARDD_BENCH_BARE_SERVER_PROCESS_H_
