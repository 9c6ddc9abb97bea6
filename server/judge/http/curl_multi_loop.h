// One event-loop thread that runs every HTTP call of the process over
// libcurl's multi interface: connections are kept alive and reused across
// calls (and multiplexed when a server offers HTTP/2), and thousands of calls
// can be in flight without a thread each. The loop also runs timers, which
// the judge pool uses for retry backoff and for its deadline sweep. The
// request and result types are in http_types.h.
//
//   absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
//       CurlMultiLoop::Create({});
//   HttpRequest req;
//   req.url = "http://127.0.0.1:8000/v1/chat/completions";
//   req.body = R"({"model": "m", "messages": []})";
//   req.headers = HttpHeaders::Make({"Content-Type: application/json"});
//   uint64_t id = (*loop)->Submit(std::move(req), [](HttpResult r) {
//     // on the loop thread: keep it short, never block
//   });
//   (*loop)->Cancel(id);  // optional: completes with cancelled = true
//
// How it stays cheap per call (docs/benchmarks.md, scenario 2, has the
// figures and the HTTP floor they are compared with): libcurl's socket
// interface (curl_multi_socket_action) on an epoll set, so a wake-up touches
// only the sockets that are ready rather than every connection; producers
// write the wake-up eventfd only when the loop may be asleep, and the loop
// drains its queues in batches; idle kept-alive connections stay in the
// epoll set; replies arriving close together share a wake-up
// (Options::coalesce); easy handles are pooled with their constant options
// set once; transfer timeouts are kept in the loop's own heap
// (deadline_heap.h), not in libcurl's timer tree; transfers are spread over
// several multi handles (Options::shards), because the libcurl of Debian
// bookworm walks every connection of a multi handle when a transfer ends and
// every connection to the host when one starts.
//
// Each turn of the loop (Run()) is three steps: RunQueuedWork() (starts,
// cancels and timers queued by other threads), PlanWait() (how long it may
// sleep: libcurl's timer, transfer deadlines, timers, the coalescing window)
// and PollSockets() (epoll, then libcurl's socket and timeout actions, then
// the completed transfers' callbacks).
//
// Thread-safety: Submit(), Cancel(), RunAt() and Shutdown() may be called
// from any thread, including from callbacks on the loop thread. Callbacks
// run on the loop thread, one at a time, with no lock of the loop held, and
// each exactly once (a transfer still running at Shutdown() completes with
// cancelled = true; a timer still pending at Shutdown() runs then).
#ifndef REWARDD_SERVER_JUDGE_HTTP_CURL_MULTI_LOOP_H_
#define REWARDD_SERVER_JUDGE_HTTP_CURL_MULTI_LOOP_H_

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/judge/http/deadline_heap.h"
#include "server/judge/http/http_types.h"

namespace rewardd {

class CurlMultiLoop {
 public:
  struct Options {
    // Connections kept open per host and in total (0 = libcurl's default:
    // no per-host cap, 4x the transfers for the cache). The judge pool caps
    // in-flight calls per replica, which caps connections too. A cap is
    // split exactly over the shards (and there are no more shards than it).
    long max_host_connections = 0;
    long max_total_connections = 0;
    // Multi handles the transfers are spread over (each new transfer goes
    // to the one running the fewest), each with its own connection pool.
    // bookworm's libcurl walks all connections of a multi handle as a
    // transfer ends (curl_multi_remove_handle) and a host's connections as
    // one starts, so with hundreds of kept-alive HTTP/1.1 connections (one
    // per in-flight call: vLLM and SGLang speak HTTP/1.1) one handle costs
    // O(connections) per call; N shards divide each walk by N.
    // 1 to 64 ("http": {"shards": N} in the judges config).
    // An HTTP/2 endpoint gets up to one multiplexed connection per shard.
    int shards = 8;
    // Ask for HTTP/2 over TLS (ALPN) and multiplex when offered; cleartext
    // stays HTTP/1.1 unless `http2_prior_knowledge`.
    bool http2 = true;
    bool http2_prior_knowledge = false;
    // PEM CA bundle that judge endpoints' certificates are checked against
    // (e.g. a private CA in front of vLLM); empty = the system's CAs.
    std::string ca_file;
    std::string thread_name = "rewardd-http";
    // Socket-readiness coalescing: after a wake-up that handled socket
    // events, the loop lets a short window pass before it looks at sockets
    // again, so replies that arrive close together cost one wake-up (and
    // one context switch) instead of one each. The window is
    // `coalesce_share` of the mean call time (a running average), capped
    // at `coalesce`: a reply waits at most that long, so a saturated judge
    // loses at most that share of its throughput (the pool sends the next
    // call only once a reply is in). New calls, Cancel(), timers and
    // libcurl's own deadlines are not delayed. Zero = no coalescing.
    absl::Duration coalesce = absl::Milliseconds(5);
    double coalesce_share = 0.025;
  };

  static absl::StatusOr<std::shared_ptr<CurlMultiLoop>> Create(Options options);
  // Dropping the last reference shuts the loop down (see Shutdown()); safe
  // even from a callback on the loop thread.
  ~CurlMultiLoop();
  CurlMultiLoop(const CurlMultiLoop&) = delete;
  CurlMultiLoop& operator=(const CurlMultiLoop&) = delete;

  // Queues `request`; `done` runs exactly once on the loop thread. Returns an
  // id for Cancel(). After Shutdown(), `done` runs at once (cancelled).
  uint64_t Submit(HttpRequest request, HttpCallback done);

  // Ends the transfer `id` early: its callback gets cancelled = true. No-op
  // when it already completed.
  void Cancel(uint64_t id);

  // Runs `fn` on the loop thread at or after `when`.
  void RunAt(absl::Time when, absl::AnyInvocable<void() &&> fn);

  // Stops the loop: transfers in flight complete with cancelled = true,
  // pending timers run once. Idempotent; blocks until the thread exited
  // unless called from the loop thread itself.
  void Shutdown();

  // True on the loop thread (where blocking waits would deadlock).
  bool InLoopThread() const {
    return std::this_thread::get_id() == thread_.get_id();
  }

  // Transfers submitted and not yet completed (approximate; for stats).
  int64_t in_flight() const;

  // Times the loop thread has gone round its loop (waits, wake-ups, timer
  // actions). An idle loop adds a few a second; for tests and profiling.
  uint64_t iterations() const { return iterations_.load(); }

 private:
  struct Transfer;
  // One multi handle and what the loop tracks for it (loop-thread only).
  struct Shard {
    CurlMultiLoop* loop = nullptr;
    CURLM* multi = nullptr;
    // When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT) on
    // this handle; set by OnTimer. libcurl's timer is one-shot:
    // CurlTimeoutAction() clears it before each timeout action, as libcurl
    // does not always report "no timer" (-1) afterwards (the loop spun
    // after a timed-out transfer). InfiniteFuture when it has no deadline.
    absl::Time deadline = absl::InfiniteFuture();
    int running = 0;  // transfers added and not yet removed
  };
  struct Timer {
    absl::Time when;
    uint64_t seq;
    mutable absl::AnyInvocable<void() &&> fn;
    bool operator>(const Timer& o) const {
      return when != o.when ? when > o.when : seq > o.seq;
    }
  };

  // How long the loop may sleep (PlanWait()).
  struct Wait {
    int timeout_ms = 0;
    // Sockets wait out the coalescing window; only queues and timers wake
    // the loop before it ends.
    bool coalescing = false;
  };

  explicit CurlMultiLoop(Options options);
  // The loop thread: RunQueuedWork(), then libcurl's and the transfers'
  // deadlines, then PlanWait() and PollSockets(), until shut down.
  void Run();
  // Step 1: takes the queues (new transfers, cancels, due timers) under
  // mu_ and acts on them. Returns true once Shutdown() was called; then
  // every running transfer has been cancelled too.
  bool RunQueuedWork();
  // True when, shut down, nothing is queued any more (the loop may exit).
  bool StoppedAndDrained();
  // Runs libcurl's timeout action on every shard whose deadline is at or
  // before `now` (or on every shard when `all`).
  void RunCurlTimeouts(absl::Time now, bool all);
  // Step 2: the sleep until the earliest of libcurl's deadline,
  // `transfer_deadline`, the next timer and the coalescing window; 0 when
  // work is queued. Clears awake_ when the loop is to sleep.
  Wait PlanWait(absl::Time now, absl::Time transfer_deadline);
  // The coalescing sleep: waits on the wake-up eventfd alone.
  void WaitForWake(int timeout_ms);
  // Step 3: waits up to `timeout_ms` for socket events, hands them to
  // libcurl, runs libcurl's due timeouts and completes finished transfers.
  void PollSockets(int timeout_ms);
  // Wakes the loop thread unless it is awake already (or is the caller):
  // producers pay an eventfd write only when the loop may be asleep.
  void Wake();
  void Start(std::unique_ptr<Transfer> transfer);
  void Complete(Transfer* transfer, CURLcode code, bool cancelled);
  // Completes the transfers libcurl reports done, on every shard.
  void ReapDone();
  Shard* LeastBusyShard();
  // The earliest deadline of any shard.
  absl::Time CurlDeadline() const;
  void CurlTimeoutAction(Shard* shard);
  // Transfer deadlines (HttpRequest::timeout) are kept by the loop in a
  // DeadlineHeap rather than given to libcurl as CURLOPT_TIMEOUT_MS: libcurl
  // keeps a node per transfer in its timer tree and re-sorts it on every
  // socket event (what that cost: "Transfer timeouts are the loop's own"
  // in docs/benchmarks.md). Loop-thread only.
  void PushDeadline(absl::Time when, uint64_t id);
  // Completes (CURLE_OPERATION_TIMEDOUT) every transfer whose deadline is
  // at or before `now`; returns the next live transfer's deadline.
  absl::Time ExpireDeadlines(absl::Time now);
  CURL* TakeEasy();
  // libcurl's CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION: keep the
  // epoll set and the timeout of libcurl's next deadline up to date.
  static int OnSocket(CURL* easy, curl_socket_t s, int what, void* user,
                      void* socket_data);
  static int OnTimer(CURLM* multi, long timeout_ms, void* user);
  // CURLOPT_WRITEFUNCTION: appends to the transfer's body, up to its
  // request's max_response_bytes.
  static size_t OnBody(char* data, size_t size, size_t n, void* user);
  // CURLOPT_CLOSESOCKETFUNCTION: forgets the descriptor's registration.
  static int OnCloseSocket(void* user, curl_socket_t s);

  const Options options_;
  std::vector<Shard> shards_;  // fixed size after construction
  int epoll_fd_ = -1;          // libcurl's sockets and wake_fd_
  int wake_epoll_fd_ = -1;     // wake_fd_ only: the wait while coalescing
  int wake_fd_ = -1;           // eventfd: producers wake the loop through it
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Transfer>> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> cancels_ ABSL_GUARDED_BY(mu_);
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_
      ABSL_GUARDED_BY(mu_);
  int64_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  // False only while the loop sleeps (or is about to) with empty queues; set
  // to false under mu_ after the loop saw them empty, so a producer that
  // queues after that sees false and writes the eventfd. Wakes of a busy
  // loop are skipped: with hundreds of calls a second, most are.
  std::atomic<bool> awake_{true};
  std::atomic<uint64_t> iterations_{0};

  // Loop-thread only.
  absl::flat_hash_map<uint64_t, Transfer*> running_;
  // Transfer deadlines; entries of completed transfers are dropped lazily.
  DeadlineHeap deadlines_;
  // RunQueuedWork()'s batches, kept to reuse their capacity.
  std::vector<std::unique_ptr<Transfer>> starting_;
  std::vector<uint64_t> cancelling_;
  std::vector<absl::AnyInvocable<void() &&>> due_;
  std::vector<CURL*> idle_easy_;
  // Per descriptor: the epoll events libcurl asked for (0 = none: it removed
  // the socket) and those registered in epoll_fd_. A kept-alive connection
  // goes idle and busy again once per call; leaving it registered while
  // idle saves an EPOLL_CTL_DEL and an EPOLL_CTL_ADD per call (an event on
  // it while unwanted removes it then).
  std::vector<uint32_t> fd_wanted_;
  std::vector<uint32_t> fd_registered_;
  std::vector<uint16_t> fd_shard_;  // the shard whose connection it is
  // When the loop last handled socket events (for Options::coalesce).
  absl::Time last_socket_wake_ = absl::InfinitePast();
  // Running average of successful calls' duration (sizes the window).
  absl::Duration mean_call_time_ = absl::ZeroDuration();
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_CURL_MULTI_LOOP_H_
