// The gateway's connection queue for cpp-httplib: `threads` workers serve
// connections, at most `max_queued` connections wait for one, and a
// connection beyond that goes to a single "reject" thread whose handlers
// answer 503 at once (IsRejectThread() tells them) instead of queueing
// without bound. httplib hands the queue a closure that owns the socket,
// so a rejected connection must still be run to be answered and closed;
// the reject thread only reads the request and writes the 503.
//
//   server.new_task_queue = [] { return new BoundedTaskQueue(64, 256); };
//   ... in a handler: if (BoundedTaskQueue::IsRejectThread()) { 503 }
//
// Thread-safety: enqueue() is called by httplib's accept thread, shutdown()
// once when the server stops; both are safe against the workers.
#ifndef REWARDD_SERVER_GATEWAY_BOUNDED_TASK_QUEUE_H_
#define REWARDD_SERVER_GATEWAY_BOUNDED_TASK_QUEUE_H_

#include <httplib.h>

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rewardd {

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(int threads, int max_queued);
  ~BoundedTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs every queued closure (connections already accepted are answered),
  // then joins the threads.
  void shutdown() override;

  // True on the reject thread: the handler must answer 503.
  static bool IsRejectThread();

 private:
  struct Lane {
    std::deque<std::function<void()>> jobs;
    absl::CondVar ready;
    size_t idle = 0;  // threads of the lane waiting for a job
  };
  void Work(Lane* lane, bool reject);

  const size_t max_queued_;
  absl::Mutex mu_;
  Lane work_ ABSL_GUARDED_BY(mu_);
  Lane reject_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // joined by shutdown()
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_BOUNDED_TASK_QUEUE_H_
