// ThreadSanitizer annotations for the uninstrumented Debian libraries
// rewardd synchronizes through, linked into every binary of the TSan build
// (CMake links it when REWARDD_SANITIZE=thread).
//
// Why: Debian's abseil and gRPC are not built with TSan, so TSan cannot see
// the synchronization they do, and reports races that are not there:
//  - absl::Mutex, absl::CondVar, absl::Notification, absl::BlockingCounter:
//    every ABSL_GUARDED_BY field touched by two threads would be reported
//    (tested: a counter incremented under absl::MutexLock by four threads
//    gives five reports). abseil annotates these calls itself only when it
//    is compiled with -fsanitize=thread.
//  - gRPC's completion queues: an operation batch (and the callback tag
//    with it, and the reactor it will call) is filled on the thread that
//    starts it, handed to gRPC core with grpc_call_start_batch, and comes
//    back on a gRPC thread from grpc_completion_queue_next/pluck; core
//    passes it on with its own atomics.
//
// How: the functions below have the same (mangled) names as the libraries'
// exported ones; the executable's definitions take precedence for every
// caller, including the libraries themselves (ELF symbol interposition).
// Each one tells TSan what happens (the __tsan_mutex_* API, as abseil's own
// TSan build does, or a release/acquire pair on the completion tag) and
// calls the real function found with dlsym(RTLD_NEXT). A real function that
// cannot be found aborts at once, so a changed library cannot silently
// disable this.
//
// Not compiled with -fsanitize=thread itself (it must not be instrumented),
// only linked into instrumented binaries. Thread-safety: every function is
// as thread-safe as the library function it wraps; the real-function
// pointers are resolved once, in function-local statics.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpc/grpc.h"
#include "grpcpp/support/server_callback.h"

namespace {

void* Real(const char* mangled) {
  void* fn = dlsym(RTLD_NEXT, mangled);
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in abseil\n", mangled);
    std::abort();
  }
  return fn;
}

// The real function `mangled` as a pointer of type F, resolved once.
#define REAL(F, mangled) \
  static const auto real = reinterpret_cast<F>(Real(mangled))

// Only the outermost wrapped call of a thread annotates: abseil calls its
// own exported functions (AwaitWithTimeout calls AwaitWithDeadline,
// Notification locks its Mutex), and those calls reach the wrappers too;
// annotating them again would unlock a mutex twice in TSan's view.
thread_local int tls_depth = 0;
class Outermost {
 public:
  Outermost() : outer_(tls_depth++ == 0) {}
  ~Outermost() { --tls_depth; }
  Outermost(const Outermost&) = delete;
  Outermost& operator=(const Outermost&) = delete;
  explicit operator bool() const { return outer_; }

 private:
  const bool outer_;
};

void PreLock(void* m, unsigned flags) { __tsan_mutex_pre_lock(m, flags); }
void PostLock(void* m, unsigned flags) { __tsan_mutex_post_lock(m, flags, 0); }
void PreUnlock(void* m, unsigned flags) { __tsan_mutex_pre_unlock(m, flags); }
void PostUnlock(void* m, unsigned flags) { __tsan_mutex_post_unlock(m, flags); }

// Waiting on a condition releases the mutex and takes it back before it
// returns; from TSan's point of view that is an unlock and a lock.
void ReleaseForWait(void* m) {
  PreUnlock(m, 0);
  PostUnlock(m, 0);
}
void ReacquireAfterWait(void* m) {
  PreLock(m, 0);
  PostLock(m, 0);
}

// A condition evaluated inside abseil (by the waiter, or by the thread
// unlocking) reads state guarded by the mutex while TSan believes the mutex
// is free (the annotations sit around the whole call). The evaluation is
// bracketed as a critical section of its own: it acquires what the mutex's
// unlocks released, and releases its reads to the mutex's next lock.
struct AnnotatedCondition {
  const absl::Condition* cond;
  void* mu;
};
bool EvalAnnotated(void* arg) {
  const auto* a = static_cast<const AnnotatedCondition*>(arg);
  __tsan_acquire(a->mu);
  const bool met = a->cond->Eval();
  __tsan_release(a->mu);
  return met;
}

// Notification's flag: Notify() stores it in the (uninstrumented) library,
// HasBeenNotified() loads it inline in instrumented code. The flag follows
// the Mutex member (notification.h: `mutable Mutex mutex_;
// std::atomic<bool> notified_yet_;`).
static_assert(sizeof(absl::Mutex) == sizeof(intptr_t),
              "absl::Mutex layout changed: recheck NotifiedFlag()");
void* NotifiedFlag(const absl::Notification* n) {
  return const_cast<char*>(reinterpret_cast<const char*>(n)) +
         sizeof(absl::Mutex);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// --- Mutex: exclusive ------------------------------------------------------
void Mutex::Lock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  const Outermost outer;
  if (outer) PreLock(this, 0);
  real(this);
  if (outer) PostLock(this, 0);
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  if (outer)
    PostLock(this, __tsan_mutex_try_lock |
                       (locked ? 0 : __tsan_mutex_try_lock_failed));
  return locked;
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  const Outermost outer;
  if (outer) PreUnlock(this, 0);
  real(this);
  if (outer) PostUnlock(this, 0);
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&),
       "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  const Outermost outer;
  if (outer) PreLock(this, 0);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  real(this, outer ? wrapped : cond);
  if (outer) PostLock(this, 0);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_"
       "8DurationE");
  const Outermost outer;
  if (outer) PreLock(this, 0);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met =
      real(this, outer ? wrapped : cond, timeout);  // held either way
  if (outer) PostLock(this, 0);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_"
       "4TimeE");
  const Outermost outer;
  if (outer) PreLock(this, 0);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met = real(this, outer ? wrapped : cond, deadline);
  if (outer) PostLock(this, 0);
  return met;
}

// --- Mutex: shared ---------------------------------------------------------
void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_read_lock);
  real(this);
  if (outer) PostLock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderTryLock() {
  REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_read_lock | __tsan_mutex_try_lock);
  const bool locked = real(this);
  if (outer)
    PostLock(this, __tsan_mutex_read_lock | __tsan_mutex_try_lock |
                       (locked ? 0 : __tsan_mutex_try_lock_failed));
  return locked;
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  const Outermost outer;
  if (outer) PreUnlock(this, __tsan_mutex_read_lock);
  real(this);
  if (outer) PostUnlock(this, __tsan_mutex_read_lock);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&),
       "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_read_lock);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  real(this, outer ? wrapped : cond);
  if (outer) PostLock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_"
       "9ConditionENS0_8DurationE");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_read_lock);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met = real(this, outer ? wrapped : cond, timeout);
  if (outer) PostLock(this, __tsan_mutex_read_lock);
  return met;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_"
       "9ConditionENS0_4TimeE");
  const Outermost outer;
  if (outer) PreLock(this, __tsan_mutex_read_lock);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met = real(this, outer ? wrapped : cond, deadline);
  if (outer) PostLock(this, __tsan_mutex_read_lock);
  return met;
}

// --- Mutex: waiting while held --------------------------------------------
void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&),
       "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  const Outermost outer;
  if (outer) ReleaseForWait(this);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  real(this, outer ? wrapped : cond);
  if (outer) ReacquireAfterWait(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
       "8DurationE");
  const Outermost outer;
  if (outer) ReleaseForWait(this);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met = real(this, outer ? wrapped : cond, timeout);
  if (outer) ReacquireAfterWait(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_"
       "4TimeE");
  const Outermost outer;
  if (outer) ReleaseForWait(this);
  AnnotatedCondition annotated{&cond, this};
  const Condition wrapped(&EvalAnnotated, &annotated);
  const bool met = real(this, outer ? wrapped : cond, deadline);
  if (outer) ReacquireAfterWait(this);
  return met;
}

// --- CondVar ---------------------------------------------------------------
void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*),
       "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  const Outermost outer;
  if (outer) ReleaseForWait(mu);
  real(this, mu);
  if (outer) ReacquireAfterWait(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  REAL(bool (*)(CondVar*, Mutex*, Duration),
       "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  const Outermost outer;
  if (outer) ReleaseForWait(mu);
  const bool timed_out = real(this, mu, timeout);
  if (outer) ReacquireAfterWait(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, Time),
       "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  const Outermost outer;
  if (outer) ReleaseForWait(mu);
  const bool timed_out = real(this, mu, deadline);
  if (outer) ReacquireAfterWait(mu);
  return timed_out;
}

// --- Notification ----------------------------------------------------------
void Notification::Notify() {
  REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  const Outermost outer;
  if (outer) __tsan_release(NotifiedFlag(this));
  real(this);
}

void Notification::WaitForNotification() const {
  REAL(void (*)(const Notification*),
       "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  const Outermost outer;
  real(this);
  if (outer) __tsan_acquire(NotifiedFlag(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  REAL(bool (*)(const Notification*, Duration),
       "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_"
       "8DurationE");
  const Outermost outer;
  const bool notified = real(this, timeout);
  if (notified && outer) __tsan_acquire(NotifiedFlag(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  REAL(bool (*)(const Notification*, Time),
       "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_"
       "4TimeE");
  const Outermost outer;
  const bool notified = real(this, deadline);
  if (notified && outer) __tsan_acquire(NotifiedFlag(this));
  return notified;
}

// --- BlockingCounter -------------------------------------------------------
bool BlockingCounter::DecrementCount() {
  REAL(bool (*)(BlockingCounter*),
       "_ZN4absl7debian315BlockingCounter14DecrementCountEv");
  const Outermost outer;
  if (outer) __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  REAL(void (*)(BlockingCounter*), "_ZN4absl7debian315BlockingCounter4WaitEv");
  const Outermost outer;
  real(this);
  if (outer) __tsan_acquire(this);
}

ABSL_NAMESPACE_END
}  // namespace absl

// --- gRPC completion queues ------------------------------------------------
// Everything the starting thread wrote before handing a batch to core
// happens before whatever the thread that receives the batch's completion
// does with it. The tag (the CallbackWithSuccessTag, or the async tag) is
// the synchronization object.
extern "C" grpc_call_error grpc_call_start_batch(grpc_call* call,
                                                 const grpc_op* ops,
                                                 size_t nops, void* tag,
                                                 void* reserved) {
  REAL(grpc_call_error(*)(grpc_call*, const grpc_op*, size_t, void*, void*),
       "grpc_call_start_batch");
  __tsan_release(tag);
  return real(call, ops, nops, tag, reserved);
}

extern "C" grpc_event grpc_completion_queue_next(grpc_completion_queue* cq,
                                                 gpr_timespec deadline,
                                                 void* reserved) {
  REAL(grpc_event(*)(grpc_completion_queue*, gpr_timespec, void*),
       "grpc_completion_queue_next");
  grpc_event event = real(cq, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

extern "C" grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq,
                                                  void* tag,
                                                  gpr_timespec deadline,
                                                  void* reserved) {
  REAL(grpc_event(*)(grpc_completion_queue*, void*, gpr_timespec, void*),
       "grpc_completion_queue_pluck");
  grpc_event event = real(cq, tag, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

// --- gRPC server reactors ---------------------------------------------------
// A server reactor's OnDone runs once the call's count of outstanding
// callbacks (ServerCallbackCall::callbacks_outstanding_) reaches zero. The
// count-downs in grpcpp's inline code are instrumented atomics, but the one
// inside libgrpc++ (CallOnCancel) is not, and ScheduleOnDone hands OnDone to
// another thread. The counter is the synchronization object: CallOnCancel
// releases to it, ScheduleOnDone acquires from it.
//
// grpc::internal::ServerCallbackCall is {vptr; atomic_int
// on_cancel_conditions_remaining_; atomic_int callbacks_outstanding_;}
// (grpcpp/support/server_callback.h in gRPC 1.51).
static_assert(sizeof(grpc::internal::ServerCallbackCall) ==
                  sizeof(void*) + 2 * sizeof(std::atomic_int),
              "ServerCallbackCall layout changed: recheck CallbackCounter()");
namespace {
void* CallbackCounter(void* server_callback_call) {
  return static_cast<char*>(server_callback_call) + sizeof(void*) +
         sizeof(std::atomic_int);
}
}  // namespace

// Declared by their mangled names: ScheduleOnDone and CallOnCancel are
// private members.
void GrpcScheduleOnDone(void* self, bool inline_ondone) __asm__(
    "_ZN4grpc8internal18ServerCallbackCall14ScheduleOnDoneEb");
void GrpcScheduleOnDone(void* self, bool inline_ondone) {
  REAL(void (*)(void*, bool),
       "_ZN4grpc8internal18ServerCallbackCall14ScheduleOnDoneEb");
  __tsan_acquire(CallbackCounter(self));
  real(self, inline_ondone);
}

void GrpcCallOnCancel(void* self, void* reactor) __asm__(
    "_ZN4grpc8internal18ServerCallbackCall12CallOnCancelEPNS0_"
    "13ServerReactorE");
void GrpcCallOnCancel(void* self, void* reactor) {
  REAL(void (*)(void*, void*),
       "_ZN4grpc8internal18ServerCallbackCall12CallOnCancelEPNS0_"
       "13ServerReactorE");
  // OnCancel (rewardd code) runs inside, then the uninstrumented count-down.
  __tsan_release(CallbackCounter(self));
  real(self, reactor);
  __tsan_release(CallbackCounter(self));
}
