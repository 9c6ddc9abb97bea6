#include "server/gateway/bounded_task_queue.h"

namespace rewardd {
namespace {

thread_local bool on_reject_thread = false;

}  // namespace

BoundedTaskQueue::BoundedTaskQueue(int threads, int max_queued)
    : max_queued_(static_cast<size_t>(max_queued)) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Work(&work_, false); });
  }
  threads_.emplace_back([this] { Work(&reject_, true); });
  // Every thread waits for work before the queue is used: a connection that
  // came before the workers had started would otherwise be counted as over
  // the limit (no idle worker yet) and sent to the reject lane.
  const size_t workers = static_cast<size_t>(threads);
  auto started = [this, workers]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return work_.idle == workers && reject_.idle == 1;
  };
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&started));
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

bool BoundedTaskQueue::IsRejectThread() { return on_reject_thread; }

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  // Jobs in the deque are connections no worker has picked up yet: idle
  // workers take one each at once, the rest wait (up to max_queued_).
  Lane& lane = work_.jobs.size() < work_.idle + max_queued_ ? work_ : reject_;
  lane.jobs.push_back(std::move(fn));
  lane.ready.Signal();
}

void BoundedTaskQueue::Work(Lane* lane, bool reject) {
  on_reject_thread = reject;
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      ++lane->idle;
      while (lane->jobs.empty() && !shutdown_) lane->ready.Wait(&mu_);
      --lane->idle;
      if (lane->jobs.empty()) return;  // shut down and drained
      fn = std::move(lane->jobs.front());
      lane->jobs.pop_front();
    }
    fn();
  }
}

void BoundedTaskQueue::shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    work_.ready.SignalAll();
    reject_.ready.SignalAll();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace rewardd
