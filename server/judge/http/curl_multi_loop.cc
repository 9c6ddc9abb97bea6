#include "server/judge/http/curl_multi_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rewardd {

struct CurlMultiLoop::Transfer {
  uint64_t id = 0;
  HttpRequest request;
  HttpCallback done;
  CURL* easy = nullptr;
  HttpResult result;
  absl::Time start;
  Shard* shard = nullptr;  // while added to its multi handle
  bool too_large = false;  // the body passed request.max_response_bytes
  char error[CURL_ERROR_SIZE];
};

namespace {

// Only Retry-After matters to the dispatcher; the delta-seconds form is what
// vLLM, LiteLLM and OpenAI send (an HTTP-date is ignored).
size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  const size_t len = size * n;
  absl::string_view line(data, len);
  constexpr absl::string_view kName = "retry-after:";
  if (line.size() > kName.size() &&
      absl::EqualsIgnoreCase(line.substr(0, kName.size()), kName)) {
    absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(kName.size()));
    double seconds = 0;
    if (absl::SimpleAtod(value, &seconds) && seconds >= 0) {
      static_cast<HttpResult*>(user)->retry_after =
          absl::Milliseconds(static_cast<int64_t>(seconds * 1000));
    }
  }
  return len;
}

}  // namespace

absl::StatusOr<std::shared_ptr<CurlMultiLoop>> CurlMultiLoop::Create(
    Options options) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_ALL);
  if (global != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("curl_global_init: ", curl_easy_strerror(global)));
  }
  std::shared_ptr<CurlMultiLoop> loop(new CurlMultiLoop(std::move(options)));
  for (const Shard& shard : loop->shards_) {
    if (shard.multi == nullptr) {
      return absl::InternalError("curl_multi_init failed");
    }
  }
  if (loop->epoll_fd_ < 0 || loop->wake_epoll_fd_ < 0 || loop->wake_fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
  }
  // The thread owns a reference, so the loop outlives a Run() iteration even
  // when a callback drops the last user reference. Users get an aliasing
  // handle whose deleter shuts the loop down.
  loop->thread_ = std::thread([loop] { loop->Run(); });
  CurlMultiLoop* raw = loop.get();
  return std::shared_ptr<CurlMultiLoop>(
      raw, [owner = std::move(loop)](CurlMultiLoop* p) mutable {
        p->Shutdown();
        owner.reset();
      });
}

CurlMultiLoop::CurlMultiLoop(Options options) : options_(std::move(options)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ >= 0 && wake_epoll_fd_ >= 0 && wake_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    epoll_ctl(wake_epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  // A connection cap is split exactly over the shards, so there are no
  // more shards than the smallest cap allows.
  long shards = std::clamp(options_.shards, 1, 64);
  for (long cap :
       {options_.max_host_connections, options_.max_total_connections}) {
    if (cap > 0) shards = std::min(shards, cap);
  }
  shards_.resize(shards);
  for (long i = 0; i < shards; ++i) {
    const auto per_shard = [shards, i](long cap) {
      return cap / shards + (i < cap % shards ? 1 : 0);
    };
    Shard& shard = shards_[i];
    shard.loop = this;
    shard.multi = curl_multi_init();
    if (shard.multi == nullptr) return;
    CURLM* multi = shard.multi;
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlMultiLoop::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &shard);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlMultiLoop::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, &shard);
    if (options_.max_host_connections > 0) {
      curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                        per_shard(options_.max_host_connections));
    }
    if (options_.max_total_connections > 0) {
      curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                        per_shard(options_.max_total_connections));
    }
  }
}

CurlMultiLoop::~CurlMultiLoop() {
  Shutdown();
  if (thread_.joinable()) {
    // Destroyed by the loop thread itself as it exits (see Create()).
    if (std::this_thread::get_id() == thread_.get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
  // Closing the cached connections calls OnSocket(REMOVE): the epoll set
  // must still exist.
  for (Shard& shard : shards_) {
    if (shard.multi != nullptr) curl_multi_cleanup(shard.multi);
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  if (wake_epoll_fd_ >= 0) close(wake_epoll_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void CurlMultiLoop::Wake() {
  // The loop thread checks its queues before it sleeps.
  if (InLoopThread()) return;
  if (awake_.exchange(true)) return;
  const uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

uint64_t CurlMultiLoop::Submit(HttpRequest request, HttpCallback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    transfer->id = id;
    if (!shutdown_) {
      ++submitted_;
      pending_.push_back(std::move(transfer));
    }
  }
  if (transfer != nullptr) {  // shut down: answer at once
    HttpResult r;
    r.cancelled = true;
    r.error = "http loop shut down";
    std::move(transfer->done)(std::move(r));
    return id;
  }
  Wake();
  return id;
}

void CurlMultiLoop::Cancel(uint64_t id) {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    cancels_.push_back(id);
  }
  Wake();
}

void CurlMultiLoop::RunAt(absl::Time when, absl::AnyInvocable<void() &&> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      timers_.push(Timer{when, next_seq_++, std::move(fn)});
      fn = nullptr;
    }
  }
  if (fn) {  // shut down: run now so owners can clean up
    std::move(fn)();
    return;
  }
  Wake();
}

void CurlMultiLoop::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  Wake();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) {
    thread_.join();
  }
}

int64_t CurlMultiLoop::in_flight() const {
  absl::MutexLock lock(&mu_);
  return submitted_ - completed_;
}

int CurlMultiLoop::OnSocket(CURL* easy, curl_socket_t s, int what, void* user,
                            void* socket_data) {
  auto* shard = static_cast<Shard*>(user);
  CurlMultiLoop* self = shard->loop;
  if (s < 0) return 0;
  const size_t fd = static_cast<size_t>(s);
  if (fd >= self->fd_wanted_.size()) {
    self->fd_wanted_.resize(fd + 64, 0);
    self->fd_registered_.resize(fd + 64, 0);
    self->fd_shard_.resize(fd + 64, 0);
  }
  self->fd_shard_[fd] = static_cast<uint16_t>(shard - self->shards_.data());
  if (what == CURL_POLL_REMOVE) {
    // Left registered (see fd_wanted_); Run() drops it if it fires.
    self->fd_wanted_[fd] = 0;
    return 0;
  }
  const uint32_t events = ((what & CURL_POLL_IN) ? uint32_t{EPOLLIN} : 0u) |
                          ((what & CURL_POLL_OUT) ? uint32_t{EPOLLOUT} : 0u);
  self->fd_wanted_[fd] = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = s;
  // OnCloseSocket() clears the registration of a closed descriptor (epoll
  // drops it by itself), so a matching one is current.
  if (self->fd_registered_[fd] == events) return 0;
  if (self->fd_registered_[fd] != 0) {
    if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, s, &ev) == 0) {
      self->fd_registered_[fd] = events;
      return 0;
    }
  }
  if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, s, &ev) != 0 &&
      errno == EEXIST) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, s, &ev);
  }
  self->fd_registered_[fd] = events;
  return 0;
}

size_t CurlMultiLoop::OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string& body = t->result.body;
  if (size * n > t->request.max_response_bytes - body.size()) {
    t->too_large = true;
    return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  body.append(data, size * n);
  return size * n;
}

int CurlMultiLoop::OnCloseSocket(void* user, curl_socket_t s) {
  auto* self = static_cast<CurlMultiLoop*>(user);
  const size_t fd = static_cast<size_t>(s);
  if (fd < self->fd_registered_.size()) {
    self->fd_registered_[fd] = 0;
    self->fd_wanted_[fd] = 0;
  }
  return close(s);
}

int CurlMultiLoop::OnTimer(CURLM* multi, long timeout_ms, void* user) {
  auto* shard = static_cast<Shard*>(user);
  shard->deadline = timeout_ms < 0
                        ? absl::InfiniteFuture()
                        : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

CurlMultiLoop::Shard* CurlMultiLoop::LeastBusyShard() {
  Shard* best = &shards_[0];
  for (Shard& shard : shards_) {
    if (shard.running < best->running) best = &shard;
  }
  return best;
}

absl::Time CurlMultiLoop::CurlDeadline() const {
  absl::Time earliest = absl::InfiniteFuture();
  for (const Shard& shard : shards_) {
    earliest = std::min(earliest, shard.deadline);
  }
  return earliest;
}

CURL* CurlMultiLoop::TakeEasy() {
  if (!idle_easy_.empty()) {
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return nullptr;
  // What every call shares is set once per handle; handles are recycled
  // without curl_easy_reset, and Start() sets every per-call option anew.
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlMultiLoop::OnBody);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION,
                   &CurlMultiLoop::OnCloseSocket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  if (options_.http2_prior_knowledge) {
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  } else if (options_.http2) {
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  }
  return easy;
}

void CurlMultiLoop::Start(std::unique_ptr<Transfer> t) {
  CURL* easy = TakeEasy();
  t->start = absl::Now();
  t->error[0] = '\0';
  if (easy == nullptr) {
    t->easy = nullptr;
    Transfer* raw = t.release();
    Complete(raw, CURLE_FAILED_INIT, false);
    return;
  }
  t->easy = easy;
  const HttpRequest& req = t->request;
  curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER,
                   req.headers != nullptr ? req.headers->list() : nullptr);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t->result);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  // Wait for a multiplexable connection rather than opening a new one when
  // HTTP/2 may be in play (TLS with ALPN, or prior knowledge). Not for
  // cleartext HTTP/1.1: transfers parked that way can sit until the next
  // timeout instead of opening their own connection.
  const bool pipewait =
      options_.http2_prior_knowledge ||
      (options_.http2 && absl::StartsWith(req.url, "https://"));
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, pipewait ? 1L : 0L);
  Transfer* raw = t.release();
  running_[raw->id] = raw;
  if (req.timeout > absl::ZeroDuration()) {
    PushDeadline(raw->start + req.timeout, raw->id);
  }
  Shard* shard = LeastBusyShard();
  CURLMcode mc = curl_multi_add_handle(shard->multi, easy);
  if (mc != CURLM_OK) {
    running_.erase(raw->id);
    Complete(raw, CURLE_FAILED_INIT, false);
    return;
  }
  raw->shard = shard;
  ++shard->running;
}

// Takes ownership of `t` back from running_/the multi handle, recycles the
// easy handle and runs the callback.
void CurlMultiLoop::Complete(Transfer* t, CURLcode code, bool cancelled) {
  std::unique_ptr<Transfer> owned(t);
  HttpResult& r = owned->result;
  r.curl_code = code;
  r.cancelled = cancelled;
  r.elapsed = absl::Now() - owned->start;
  if (!cancelled && code == CURLE_OK) {
    mean_call_time_ = mean_call_time_ * 0.95 + r.elapsed * 0.05;
  }
  if (owned->easy != nullptr) {
    if (!cancelled) {
      curl_easy_getinfo(owned->easy, CURLINFO_RESPONSE_CODE, &r.status);
    }
    if (owned->shard != nullptr) {
      curl_multi_remove_handle(owned->shard->multi, owned->easy);
      --owned->shard->running;
    }
    // The buffer dies with the transfer; nothing may write to it later.
    curl_easy_setopt(owned->easy, CURLOPT_ERRORBUFFER, nullptr);
    idle_easy_.push_back(owned->easy);
  }
  if (cancelled) {
    r.error = "cancelled";
  } else if (owned->too_large) {
    r.error = absl::StrCat("the reply was larger than ",
                           owned->request.max_response_bytes, " bytes");
  } else if (code != CURLE_OK) {
    r.error = owned->error[0] != '\0' ? std::string(owned->error)
                                      : std::string(curl_easy_strerror(code));
  }
  {
    absl::MutexLock lock(&mu_);
    ++completed_;
  }
  std::move(owned->done)(std::move(r));
}

void CurlMultiLoop::PushDeadline(absl::Time when, uint64_t id) {
  deadlines_.Push(when, id, running_.size(), [this](uint64_t transfer) {
    return running_.contains(transfer);
  });
}

absl::Time CurlMultiLoop::ExpireDeadlines(absl::Time now) {
  const auto live = [this](uint64_t id) { return running_.contains(id); };
  while (std::optional<DeadlineHeap::Entry> top = deadlines_.Top(live)) {
    if (top->when > now) return top->when;
    deadlines_.Pop();
    auto it = running_.find(top->id);
    Transfer* t = it->second;
    running_.erase(it);
    // libcurl's wording for CURLOPT_TIMEOUT, which callers may show.
    std::snprintf(
        t->error, sizeof(t->error),
        "Operation timed out after %lld milliseconds with %zu "
        "bytes received",
        static_cast<long long>(absl::ToInt64Milliseconds(t->request.timeout)),
        t->result.body.size());
    Complete(t, CURLE_OPERATION_TIMEDOUT, false);
  }
  return absl::InfiniteFuture();
}

void CurlMultiLoop::ReapDone() {
  for (Shard& shard : shards_) {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(shard.multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      const CURLcode code = msg->data.result;
      running_.erase(t->id);
      Complete(t, code, false);
    }
  }
}

void CurlMultiLoop::CurlTimeoutAction(Shard* shard) {
  // One-shot: libcurl re-arms it through OnTimer during the call if it still
  // needs one. Left in the past, the loop would call this again at once,
  // forever (100% of a CPU after any transfer timed out).
  shard->deadline = absl::InfiniteFuture();
  int running = 0;
  curl_multi_socket_action(shard->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

void CurlMultiLoop::Run() {
  pthread_setname_np(pthread_self(),
                     options_.thread_name.substr(0, 15).c_str());
  while (true) {
    iterations_.fetch_add(1, std::memory_order_relaxed);
    if (RunQueuedWork()) {
      if (StoppedAndDrained()) break;
      continue;
    }
    const absl::Time now = absl::Now();
    const absl::Time transfer_deadline = ExpireDeadlines(now);
    // libcurl asked to be called now (e.g. a handle was just added): do it
    // before any wait.
    if (CurlDeadline() <= now) {
      RunCurlTimeouts(now, /*all=*/false);
      ReapDone();
      continue;
    }
    const Wait wait = PlanWait(now, transfer_deadline);
    if (wait.coalescing && wait.timeout_ms > 0) {
      WaitForWake(wait.timeout_ms);
      continue;
    }
    PollSockets(wait.timeout_ms);
  }
}

bool CurlMultiLoop::RunQueuedWork() {
  bool stopping = false;
  {
    absl::MutexLock lock(&mu_);
    starting_.swap(pending_);
    cancelling_.swap(cancels_);
    stopping = shutdown_;
    if (!timers_.empty()) {
      const absl::Time now = absl::Now();
      while (!timers_.empty() && (stopping || timers_.top().when <= now)) {
        due_.push_back(std::move(timers_.top().fn));
        timers_.pop();
      }
    }
  }
  for (auto& t : starting_) {
    if (stopping) {
      Transfer* raw = t.release();
      raw->start = absl::Now();
      Complete(raw, CURLE_OK, true);
    } else {
      Start(std::move(t));
    }
  }
  starting_.clear();
  for (uint64_t id : cancelling_) {
    auto it = running_.find(id);
    if (it == running_.end()) continue;
    Transfer* t = it->second;
    running_.erase(it);
    Complete(t, CURLE_OK, true);
  }
  cancelling_.clear();
  for (auto& fn : due_) std::move(fn)();
  due_.clear();
  if (stopping) {
    // Cancel what is left; callbacks may not submit more (Submit answers
    // at once after shutdown_), but timers they add run in the next turn.
    while (!running_.empty()) {
      Transfer* t = running_.begin()->second;
      running_.erase(running_.begin());
      Complete(t, CURLE_OK, true);
    }
  }
  return stopping;
}

bool CurlMultiLoop::StoppedAndDrained() {
  absl::MutexLock lock(&mu_);
  return pending_.empty() && timers_.empty() && cancels_.empty();
}

void CurlMultiLoop::RunCurlTimeouts(absl::Time now, bool all) {
  for (Shard& shard : shards_) {
    if (all || shard.deadline <= now) CurlTimeoutAction(&shard);
  }
}

CurlMultiLoop::Wait CurlMultiLoop::PlanWait(absl::Time now,
                                            absl::Time transfer_deadline) {
  // Sleep cap when nothing is scheduled; libcurl keeps a timer for every
  // transfer, so this only bounds the cost of a lost wake-up.
  constexpr int64_t kIdleMs = 1000;
  Wait wait;
  absl::MutexLock lock(&mu_);
  if (!pending_.empty() || !cancels_.empty() || shutdown_) return wait;
  absl::Time next = std::min(CurlDeadline(), transfer_deadline);
  if (!timers_.empty()) next = std::min(next, timers_.top().when);
  // At most a small share of a typical call (see Options::coalesce): the
  // judge idles while a reply waits.
  const absl::Time window_end =
      last_socket_wake_ +
      std::min(options_.coalesce, mean_call_time_ * options_.coalesce_share);
  if (window_end > now && window_end < next) {
    next = window_end;
    wait.coalescing = true;
  }
  int64_t ms = kIdleMs;
  if (next != absl::InfiniteFuture()) {
    ms = absl::ToInt64Milliseconds(
        absl::Ceil(next - now, absl::Milliseconds(1)));
    ms = std::clamp<int64_t>(ms, 0, kIdleMs);
  }
  wait.timeout_ms = static_cast<int>(ms);
  // From here on a producer must wake us (see awake_).
  if (wait.timeout_ms > 0) awake_.store(false);
  return wait;
}

void CurlMultiLoop::WaitForWake(int timeout_ms) {
  epoll_event ev;
  if (epoll_wait(wake_epoll_fd_, &ev, 1, timeout_ms) > 0) {
    uint64_t count;
    [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
  }
  awake_.store(true);
}

void CurlMultiLoop::PollSockets(int timeout_ms) {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  awake_.store(true);
  if (n < 0) n = 0;  // EINTR
  bool socket_events = false;
  int running = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t count;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
      continue;
    }
    const size_t slot = static_cast<size_t>(fd);
    if (slot >= fd_wanted_.size() || fd_wanted_[slot] == 0) {
      // An idle kept-alive connection (the server closed it, say):
      // libcurl is not watching it, so stop reporting it.
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      if (slot < fd_registered_.size()) fd_registered_[slot] = 0;
      continue;
    }
    const uint32_t e = events[i].events;
    const int flags = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                      ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                      ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(shards_[fd_shard_[slot]].multi, fd, flags,
                             &running);
    socket_events = true;
  }
  if (socket_events && options_.coalesce > absl::ZeroDuration()) {
    last_socket_wake_ = absl::Now();
  }
  // libcurl's deadline; on an idle timeout as well, in case one was
  // missed.
  RunCurlTimeouts(absl::Now(), /*all=*/n == 0 && timeout_ms > 0);
  ReapDone();
}

}  // namespace rewardd
