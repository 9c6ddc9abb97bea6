// A gRPC MessageAllocator that puts a unary call's request and response on
// one protobuf Arena whose first block lives inside the holder: a call's
// messages (for Grade: the 1-2 KB request, twenty criterion results and
// their strings) cost one allocation and one free instead of dozens, and
// are destroyed in one go when gRPC releases them after OnDone.
//
//   ArenaMessageAllocator<GradeRequest, GradeResponse> grade_allocator;
//   service.SetMessageAllocatorFor_Grade(&grade_allocator);
//
// The allocator must outlive the server. Messages larger than the inline
// block grow the arena with heap blocks as usual.
//
// Thread-safety: AllocateMessages may be called from any thread; each
// holder belongs to one call.
#ifndef REWARDD_SERVER_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_
#define REWARDD_SERVER_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

#include <cstddef>

namespace rewardd {

template <typename Request, typename Response>
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  // 8 KiB holds a typical Grade call (a 1.5 KB response text, a 20-criterion
  // answer) without a second block.
  static constexpr size_t kInlineBlockBytes = 8192;

  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(block_)) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kInlineBlockBytes;
      return options;
    }

    // Declared before arena_, which uses it and is destroyed first.
    alignas(std::max_align_t) char block_[kInlineBlockBytes];
    google::protobuf::Arena arena_;
  };
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_
