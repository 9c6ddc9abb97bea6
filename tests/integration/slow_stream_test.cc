// A slow client on a GradeStream against a real rewardd: a client that keeps
// writing but does not read its answers is pushed back by flow control
// instead of making the server buffer them, the server's memory stays
// bounded, other clients are still served, and once the client reads again
// every request gets exactly one answer.
//
// The stream is driven through the generated stub (not RewardClient, whose
// GradeStreamSession always reads), so the test controls when reads happen.
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/rewardd_process.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;

// 20,000 requests of ~4 KB whose answers are ~21 KB each (20 criteria with
// 1 KiB ids, echoed in every CriterionResult): ~80 MB written, ~420 MB of
// answers asked for. Buffering them all would show in the server's RSS;
// the server's per-stream window (--max_stream_inflight, 64 by default)
// holds ~1.3 MB of them.
constexpr int kRequests = 20000;
constexpr int kCriteria = 20;
constexpr size_t kCriterionIdBytes = 1024;
constexpr size_t kResponseTextBytes = 4000;
// Far below the ~420 MB a server buffering every answer would hold, far
// above the window plus gRPC's per-connection buffers. Sanitizer builds
// (scripts/test.sh --sanitize=...) pad every allocation and keep shadow
// memory, so they get more room; still well below what buffering takes.
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kMaxRssGrowthBytes = int64_t{128} << 20;
#elif defined(__SANITIZE_THREAD__)
constexpr int64_t kMaxRssGrowthBytes = int64_t{256} << 20;
#else
constexpr int64_t kMaxRssGrowthBytes = int64_t{64} << 20;
#endif

// A rubric set "slow" with one rubric "big": kCriteria machine-checked
// criteria (so no judge is needed) with long ids.
std::string RubricFile() {
  nlohmann::json criteria = nlohmann::json::array();
  for (int i = 0; i < kCriteria; ++i) {
    std::string id = absl::StrCat("c", i, "-");
    id.resize(kCriterionIdBytes, 'i');
    criteria.push_back(
        {{"id", id},
         {"text", "Names Paris"},
         {"weight", 1},
         {"check", {{"type", "contains"}, {"values", {"Paris"}}}}});
  }
  nlohmann::json doc = {{"rubrics",
                         {{{"id", "big"},
                           {"prompt", "Capital of France?"},
                           {"criteria", criteria}}}}};
  return doc.dump();
}

pb::GradeRequest Request(int i) {
  pb::GradeRequest req;
  req.set_request_id(absl::StrCat(i));
  req.set_rubric_set("slow");
  req.set_rubric_id("big");
  std::string text = "Paris. ";
  text.resize(kResponseTextBytes, 'x');
  req.set_response(std::move(text));
  return req;
}

// The server's resident set size (VmRSS), in bytes; -1 if unreadable.
int64_t RssBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    int64_t kib = 0;
    if (absl::SimpleAtoi(digits, &kib)) return kib * 1024;
  }
  return -1;
}

// A channel on its own TCP connection: gRPC shares connections between
// channels to one target unless told not to, and the point of "another
// client" is that it does not share the stalled stream's connection.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

absl::StatusOr<pb::GradeResponse> UnaryGrade(pb::RewardService::Stub& stub,
                                             const pb::GradeRequest& req) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  pb::GradeResponse response;
  grpc::Status status = stub.Grade(&context, req, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

TEST(SlowStream, UnreadAnswersArePushedBackNotBuffered) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan holds freed memory in a quarantine (256 MB by default) before
  // reusing it: draining 400 MB of answers would fill it and look like
  // growth. A small quarantine keeps RSS about live memory. rewardd inherits
  // the environment.
  const char* asan = std::getenv("ASAN_OPTIONS");
  setenv("ASAN_OPTIONS",
         absl::StrCat(asan != nullptr ? asan : "", ":quarantine_size_mb=16")
             .c_str(),
         1);
#endif
  TempDir dir;
  dir.Write("slow.json", RubricFile());
  RewarddProcess server(
      {"--rubric_dir=" + dir.path(), "--rubric_poll_seconds=0"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();

  // Another client, on its own connection. Its first call also waits until
  // the rubric set is loaded (Start only waits for the port).
  auto other = pb::RewardService::NewStub(OwnChannel(server.address()));
  absl::StatusOr<pb::GradeResponse> warm;
  for (int i = 0; i < 200; ++i) {
    warm = UnaryGrade(*other, Request(-1));
    if (warm.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(warm.ok()) << warm.status() << server.Log();
  ASSERT_DOUBLE_EQ(warm->reward(), 1.0);
  const int64_t answer_bytes = static_cast<int64_t>(warm->ByteSizeLong());
  const int64_t asked_for_bytes = answer_bytes * kRequests;
  // The setup offers what the issue is about: far more unread answers than
  // any sane buffer.
  ASSERT_GT(asked_for_bytes, int64_t{400} << 20);

  const int64_t rss_before = RssBytes(server.pid());
  ASSERT_GT(rss_before, 0);

  auto channel = OwnChannel(server.address());
  auto stub = pb::RewardService::NewStub(channel);
  grpc::ClientContext context;
  // A safety net only: the test never gets near it when rewardd behaves.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(120));
  std::unique_ptr<grpc::ClientReaderWriter<pb::GradeRequest, pb::GradeResponse>>
      stream = stub->GradeStream(&context);

  std::atomic<int> written{0};
  std::atomic<bool> write_failed{false};
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      // Blocks while HTTP/2 flow control has no room for it.
      if (!stream->Write(Request(i))) {
        write_failed = true;
        return;
      }
      written.fetch_add(1);
    }
    stream->WritesDone();
  });
  // However an assertion below ends the test, the writer must not outlive
  // the stream.
  struct StopWriter {
    grpc::ClientContext* context;
    std::thread* writer;
    ~StopWriter() {
      if (!writer->joinable()) return;
      context->TryCancel();
      writer->join();
    }
  } stop_writer{&context, &writer};

  // (1) Nothing is read: the writes stall. "Stalled" = no write completed
  // for 2 s; a server that kept reading (and buffering answers) would keep
  // accepting writes until all kRequests were in.
  int last = -1;
  absl::Time last_progress = absl::Now();
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (absl::Now() < give_up && written.load() < kRequests &&
         !write_failed.load()) {
    const int now_written = written.load();
    if (now_written != last) {
      last = now_written;
      last_progress = absl::Now();
    } else if (absl::Now() - last_progress > absl::Seconds(2)) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  const int stalled_at = written.load();
  ASSERT_FALSE(write_failed.load()) << server.Log();
  EXPECT_LT(stalled_at, kRequests)
      << "every write completed although nothing was read";
  EXPECT_GE(absl::Now() - last_progress, absl::Seconds(2))
      << "writes kept completing while nothing was read (" << stalled_at
      << " of " << kRequests << ")";

  // (2) The server holds a bounded amount for the unread stream.
  const int64_t rss_stalled = RssBytes(server.pid());
  EXPECT_LT(rss_stalled - rss_before, kMaxRssGrowthBytes)
      << "rss before " << rss_before << ", with the stalled stream "
      << rss_stalled << "; " << stalled_at << " requests accepted";

  // (3) Other clients are still served.
  absl::StatusOr<pb::GradeResponse> served = UnaryGrade(*other, Request(-2));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_DOUBLE_EQ(served->reward(), 1.0);
  EXPECT_EQ(served->request_id(), "-2");
  // Even a call on the stalled stream's own connection: HTTP/2's
  // per-stream windows keep one unread stream from blocking the others.
  absl::StatusOr<pb::GradeResponse> same_connection =
      UnaryGrade(*stub, Request(-3));
  ASSERT_TRUE(same_connection.ok()) << same_connection.status();
  EXPECT_EQ(same_connection->request_id(), "-3");

  // (4) Drain: the writer resumes as answers are read; every request gets
  // exactly one answer (in any order: the API does not promise order).
  std::vector<int> answers(kRequests, 0);
  int read = 0, bad = 0, out_of_order = 0, previous = -1;
  int64_t rss_max = rss_stalled;
  pb::GradeResponse response;
  while (stream->Read(&response)) {
    int id = -1;
    if (absl::SimpleAtoi(response.request_id(), &id) && id >= 0 &&
        id < kRequests) {
      ++answers[id];
    } else {
      ++bad;
    }
    if (response.has_error() || response.reward() != 1.0) ++bad;
    if (id < previous) ++out_of_order;
    previous = id;
    if (++read % 2000 == 0) rss_max = std::max(rss_max, RssBytes(server.pid()));
  }
  writer.join();
  EXPECT_FALSE(write_failed.load());
  EXPECT_EQ(written.load(), kRequests);
  grpc::Status finished = stream->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();

  EXPECT_EQ(read, kRequests);
  EXPECT_EQ(bad, 0);
  int missing = 0, duplicated = 0;
  for (int n : answers) {
    if (n == 0) ++missing;
    if (n > 1) ++duplicated;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  // While flowing too, memory stays within the same bound.
  EXPECT_LT(rss_max - rss_before, kMaxRssGrowthBytes);

  std::printf(
      "slow_stream: answer %lld B, asked for %lld MB; stalled after %d of %d "
      "writes; rss before %lld MB, stalled %lld MB, max while draining %lld "
      "MB; %d answers out of request order\n",
      static_cast<long long>(answer_bytes),
      static_cast<long long>(asked_for_bytes >> 20), stalled_at, kRequests,
      static_cast<long long>(rss_before >> 20),
      static_cast<long long>(rss_stalled >> 20),
      static_cast<long long>(rss_max >> 20), out_of_order);
}

}  // namespace
}  // namespace rewardd
