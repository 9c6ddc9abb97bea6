#include "client/jsonl_grader.h"

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace rewardd {
namespace {

using reward::v1::GradeGroupRequest;
using reward::v1::GradeGroupResponse;
using reward::v1::GradeRequest;
using reward::v1::GradeResponse;

// The outcome of one input line.
struct Entry {
  int64_t line = 0;
  std::string request_id;
  absl::Status status;  // not OK: the line failed before it had a result
  std::unique_ptr<GradeResponse> grade;
  std::unique_ptr<GradeGroupResponse> group;
};

// Keeps output in input order with bounded memory: the reader may start line
// i only while i < next_write + capacity, so lines in flight plus lines
// finished but waiting for an earlier one never exceed `capacity`.
// Thread-safe; Complete is called from gRPC threads and never blocks.
class OrderedWindow {
 public:
  explicit OrderedWindow(int capacity) : slots_(capacity) {}

  // Reader: waits for room for `index`. False once the writer gave up.
  bool Acquire(int64_t index) {
    absl::MutexLock lock(&mu_);
    auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return aborted_ ||
             index < next_write_ + static_cast<int64_t>(slots_.size());
    };
    mu_.Await(absl::Condition(&room));
    return !aborted_;
  }

  void Complete(int64_t index, Entry entry) {
    absl::MutexLock lock(&mu_);
    slots_[index % slots_.size()] = std::move(entry);
  }

  // Reader: `total` lines were started; the writer ends after the last.
  void Close(int64_t total) {
    absl::MutexLock lock(&mu_);
    total_ = total;
  }

  void Abort() {
    absl::MutexLock lock(&mu_);
    aborted_ = true;
  }

  // Writer: whether the next line's entry can be taken without waiting.
  bool NextReady() {
    absl::MutexLock lock(&mu_);
    return slots_[next_write_ % slots_.size()].has_value();
  }

  // Writer: the next line's entry, in order; nullopt after the last.
  std::optional<Entry> Next() {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return slots_[next_write_ % slots_.size()].has_value() ||
             (total_ >= 0 && next_write_ >= total_);
    };
    mu_.Await(absl::Condition(&ready));
    std::optional<Entry>& slot = slots_[next_write_ % slots_.size()];
    if (!slot.has_value()) return std::nullopt;
    std::optional<Entry> entry = std::move(slot);
    slot.reset();
    ++next_write_;
    return entry;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::optional<Entry>> slots_ ABSL_GUARDED_BY(mu_);
  int64_t next_write_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_ ABSL_GUARDED_BY(mu_) = -1;
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
};

// Shared with callbacks, which may outlive GradeJsonl's stack frame by the
// few instructions after their last Complete.
struct State {
  explicit State(int capacity) : window(capacity) {}
  OrderedWindow window;
  // Stream mode: request_id -> line index of requests in flight.
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::pair<int64_t, int64_t>> stream_ids
      ABSL_GUARDED_BY(mu);
};

std::string ErrorJson(int64_t line, absl::string_view request_id,
                      const absl::Status& status) {
  nlohmann::ordered_json j;
  j["line"] = line;
  j["request_id"] = std::string(request_id);
  j["error"]["code"] = static_cast<int>(status.code());
  j["error"]["message"] = std::string(status.message());
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The request_id of a line that is JSON but not a valid request, if any.
std::string GuessRequestId(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) return "";
  for (const char* key : {"request_id", "requestId"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

template <typename Message>
absl::Status ParseLine(const std::string& line, bool ignore_unknown,
                       Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown;
  auto status =
      google::protobuf::util::JsonStringToMessage(line, message, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse line as ", Message::descriptor()->full_name(),
                   ": ", status.message().as_string()));
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // valid=false and reward=0 are the answer, not noise: print them.
  options.always_print_primitive_fields = true;
  std::string out;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return ErrorJson(0, "", absl::InternalError(status.message().as_string()));
  }
  return out;
}

// The writer thread: formats entries in order, writes them, counts.
void WriteLoop(OrderedWindow& window, const JsonlGradeOptions& options,
               std::ostream& out, JsonlGradeStats& stats, bool& write_failed) {
  while (true) {
    // Flush only when about to wait, so a pipe reader sees results promptly
    // without a syscall per line when results are ready in bulk.
    if (!window.NextReady()) out.flush();
    std::optional<Entry> entry = window.Next();
    if (!entry.has_value()) break;
    JsonlGradeRow row;
    row.line = entry->line;
    row.request_id = entry->request_id;
    std::string json;
    if (!entry->status.ok()) {
      json = ErrorJson(entry->line, entry->request_id, entry->status);
      row.error = absl::StrCat(absl::StatusCodeToString(entry->status.code()),
                               ": ", entry->status.message());
    } else if (entry->grade != nullptr) {
      const GradeResponse& r = *entry->grade;
      json = ToJson(r);
      if (row.request_id.empty()) row.request_id = r.request_id();
      if (r.has_error()) {
        row.error =
            absl::StrCat(absl::StatusCodeToString(
                             static_cast<absl::StatusCode>(r.error().code())),
                         ": ", r.error().message());
      } else {
        row.responses = 1;
        row.valid = r.valid() ? 1 : 0;
        row.reward = r.reward();
        row.seconds = r.timings().total_seconds();
        if (r.valid()) stats.reward_sum += r.reward();
      }
    } else if (entry->group != nullptr) {
      const GradeGroupResponse& g = *entry->group;
      json = ToJson(g);
      if (row.request_id.empty()) row.request_id = g.request_id();
      row.responses = g.results_size();
      row.valid = static_cast<int>(g.valid_count());
      row.reward = g.mean_reward();
      row.std_reward = g.std_reward();
      for (const GradeResponse& r : g.results()) {
        row.seconds = std::max(row.seconds, r.timings().total_seconds());
        if (r.valid()) stats.reward_sum += r.reward();
      }
    }
    const bool failed = !row.error.empty();
    ++(failed ? stats.failed : stats.succeeded);
    stats.responses += row.responses;
    stats.valid += row.valid;
    if (static_cast<int>(stats.rows.size()) < options.summary_rows) {
      stats.rows.push_back(std::move(row));
    }
    if (!write_failed) {
      out << json << '\n';
      if (!out) {
        write_failed = true;
        window.Abort();  // stop reading; keep draining what is in flight
      }
    }
    if (options.progress != nullptr) options.progress->Add(1, failed ? 1 : 0);
  }
  if (!write_failed) {
    out.flush();
    if (!out) write_failed = true;
  }
}

// Stream mode: one session at a time; a session found dead is replaced once
// per line so a server restart costs only the lines in flight.
class StreamDispatcher {
 public:
  StreamDispatcher(RewardClient& client, std::shared_ptr<State> state,
                   int window)
      : client_(client), state_(std::move(state)), window_(window) {}

  void Dispatch(int64_t index, int64_t line, GradeRequest request) {
    if (request.request_id().empty()) {
      request.set_request_id(absl::StrCat("line-", line));
    }
    const std::string id = request.request_id();
    {
      absl::MutexLock lock(&state_->mu);
      if (!state_->stream_ids.emplace(id, std::make_pair(index, line)).second) {
        Entry e;
        e.line = line;
        e.request_id = id;
        e.status = absl::InvalidArgumentError(absl::StrCat(
            "request_id \"", id, "\" is already in flight on this stream"));
        state_->window.Complete(index, std::move(e));
        return;
      }
    }
    if (session_ == nullptr) Open();
    absl::Status sent = session_->Send(request);
    if (!sent.ok() && sent.code() != absl::StatusCode::kInvalidArgument) {
      // The stream ended under us: finish it (its unanswered lines get
      // their errors) and try once on a new one.
      session_->Finish().IgnoreError();
      Open();
      sent = session_->Send(std::move(request));
    }
    if (!sent.ok()) {
      {
        absl::MutexLock lock(&state_->mu);
        state_->stream_ids.erase(id);
      }
      Entry e;
      e.line = line;
      e.request_id = id;
      e.status = sent;
      state_->window.Complete(index, std::move(e));
    }
  }

  void Finish() {
    if (session_ != nullptr) session_->Finish().IgnoreError();
    session_.reset();
  }

 private:
  void Open() {
    GradeStreamSession::Options options;
    options.window = window_;
    std::shared_ptr<State> state = state_;
    session_ = client_.OpenStream(
        options,
        [state](const std::string& id, absl::StatusOr<GradeResponse> result) {
          std::pair<int64_t, int64_t> where;
          {
            absl::MutexLock lock(&state->mu);
            auto it = state->stream_ids.find(id);
            if (it == state->stream_ids.end()) return;  // cannot happen
            where = it->second;
            state->stream_ids.erase(it);
          }
          Entry e;
          e.line = where.second;
          e.request_id = id;
          if (result.ok()) {
            e.grade = std::make_unique<GradeResponse>(*std::move(result));
          } else {
            e.status = result.status();
          }
          state->window.Complete(where.first, std::move(e));
        });
  }

  RewardClient& client_;
  std::shared_ptr<State> state_;
  const int window_;
  std::unique_ptr<GradeStreamSession> session_;
};

}  // namespace

absl::StatusOr<JsonlGradeStats> GradeJsonl(RewardClient& client,
                                           const JsonlGradeOptions& options,
                                           std::istream& in,
                                           std::ostream& out) {
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError("concurrency must be at least 1");
  }
  const absl::Time start = absl::Now();
  auto state = std::make_shared<State>(options.concurrency);
  JsonlGradeStats stats;
  bool write_failed = false;
  std::thread writer(
      [&] { WriteLoop(state->window, options, out, stats, write_failed); });
  StreamDispatcher stream(client, state, options.concurrency);

  std::string line;
  int64_t line_no = 0;
  int64_t index = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (!state->window.Acquire(index)) break;  // output failed
    const int64_t my_index = index++;
    const int64_t my_line = line_no;
    auto fail = [&](std::string request_id, absl::Status status) {
      Entry e;
      e.line = my_line;
      e.request_id = std::move(request_id);
      e.status = std::move(status);
      state->window.Complete(my_index, std::move(e));
    };
    if (options.mode == JsonlGradeOptions::Mode::kGroup) {
      GradeGroupRequest request;
      absl::Status parsed =
          ParseLine(line, options.ignore_unknown_fields, &request);
      if (!parsed.ok()) {
        fail(GuessRequestId(line), parsed);
        continue;
      }
      std::string id = request.request_id();
      client.GradeGroupAsync(
          std::move(request),
          [state, my_index, my_line,
           id](absl::StatusOr<GradeGroupResponse> result) mutable {
            Entry e;
            e.line = my_line;
            e.request_id = std::move(id);
            if (result.ok()) {
              e.group =
                  std::make_unique<GradeGroupResponse>(*std::move(result));
            } else {
              e.status = result.status();
            }
            state->window.Complete(my_index, std::move(e));
          });
      continue;
    }
    GradeRequest request;
    absl::Status parsed =
        ParseLine(line, options.ignore_unknown_fields, &request);
    if (!parsed.ok()) {
      fail(GuessRequestId(line), parsed);
      continue;
    }
    if (options.mode == JsonlGradeOptions::Mode::kStream) {
      stream.Dispatch(my_index, my_line, std::move(request));
      continue;
    }
    std::string id = request.request_id();
    client.GradeAsync(
        std::move(request), [state, my_index, my_line,
                             id](absl::StatusOr<GradeResponse> result) mutable {
          Entry e;
          e.line = my_line;
          e.request_id = std::move(id);
          if (result.ok()) {
            e.grade = std::make_unique<GradeResponse>(*std::move(result));
          } else {
            e.status = result.status();
          }
          state->window.Complete(my_index, std::move(e));
        });
  }
  state->window.Close(index);
  stream.Finish();
  writer.join();
  stats.lines = index;
  stats.elapsed = absl::Now() - start;
  if (write_failed) return absl::DataLossError("cannot write the output");
  if (in.bad()) return absl::DataLossError("cannot read the input");
  return stats;
}

std::string FormatSummary(const JsonlGradeStats& stats) {
  std::string out =
      absl::StrFormat("%6s  %-28s %-8s %7s %8s %7s %8s\n", "line", "request_id",
                      "status", "valid", "reward", "std", "seconds");
  for (const JsonlGradeRow& row : stats.rows) {
    std::string id = row.request_id;
    if (id.size() > 28) id = absl::StrCat(id.substr(0, 25), "...");
    if (!row.error.empty()) {
      std::string error = row.error;
      if (error.size() > 60) error = absl::StrCat(error.substr(0, 57), "...");
      absl::StrAppend(&out, absl::StrFormat("%6d  %-28s %-8s %s\n", row.line,
                                            id, "FAILED", error));
      continue;
    }
    std::string reward =
        row.valid > 0 ? absl::StrFormat("%.4f", row.reward) : std::string("-");
    std::string std_reward =
        row.responses > 1 ? absl::StrFormat("%.4f", row.std_reward) : "";
    absl::StrAppend(
        &out, absl::StrFormat("%6d  %-28s %-8s %7s %8s %7s %8.2f\n", row.line,
                              id, row.valid == row.responses ? "ok" : "invalid",
                              absl::StrCat(row.valid, "/", row.responses),
                              reward, std_reward, row.seconds));
  }
  if (stats.lines > static_cast<int64_t>(stats.rows.size())) {
    absl::StrAppend(&out, absl::StrFormat("  ... %d more lines not shown\n",
                                          stats.lines - stats.rows.size()));
  }
  const double seconds = absl::ToDoubleSeconds(stats.elapsed);
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "lines %d: %d succeeded, %d failed | responses %d, valid %d "
          "(%.1f%%), mean valid reward %s | %.1fs, %.1f lines/s\n",
          stats.lines, stats.succeeded, stats.failed, stats.responses,
          stats.valid,
          stats.responses > 0 ? 100.0 * stats.valid / stats.responses : 0.0,
          stats.valid > 0
              ? absl::StrFormat("%.4f", stats.reward_sum / stats.valid)
              : std::string("-"),
          seconds, seconds > 0 ? stats.lines / seconds : 0.0));
  return out;
}

}  // namespace rewardd
