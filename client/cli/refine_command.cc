#include "client/cli/refine_command.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/cli_flags.h"
#include "client/cli/elicitation_common.h"
#include "client/cli/json_records.h"
#include "client/cli/keyed_record_file.h"
#include "client/cli/parallel_for.h"
#include "client/cli/refine_input.h"
#include "client/cli/refinement_recorder.h"
#include "client/cli/tail_dataset.h"
#include "client/progress.h"
#include "server/util/status_macros.h"

ABSL_FLAG(std::string, report, "",
          "refine: the JSONL report, one line per prompt (default: "
          "<--output>.report; keep it out of a --rubric_dir if you name it "
          "*.jsonl).");
ABSL_FLAG(std::string, from_tail_log, "",
          "refine: read the prompts from this rewardd --tail_log_dir instead "
          "of --input (saturated groups' tied top responses, per rubric; "
          "--rubric_set limits it to one set)");
ABSL_DECLARE_FLAG(std::string, rubric_set);
ABSL_FLAG(int, iterations, 4, "refine: RtD iterations per prompt (1-16).");
ABSL_FLAG(std::string, pair_selection, "top2",
          "refine: top2 (the paper's rule) or top2_diverse.");
ABSL_FLAG(int, top_k, 0, "refine: top2_diverse's k (0 = the server's 4).");
ABSL_FLAG(bool, exclude_used, true,
          "refine: drop the pair used from later iterations.");
ABSL_FLAG(bool, show_verdicts, false,
          "refine: show the proposer the verifier's verdicts on the pair.");
ABSL_FLAG(double, flush_seconds, 1,
          "refine: rewrite the outputs at most this often while prompts "
          "complete (and always at the end).");

namespace rewardd::cli {
namespace {

namespace pb = reward::v1;
using Json = nlohmann::json;

struct RefineSettings {
  pb::RefineOptions refine;
  pb::ProposerOptions proposer;
  pb::GradeOptions verifier;
  absl::Duration deadline;
};

absl::StatusOr<RefineSettings> SettingsFromFlags() {
  RefineSettings s;
  const int iterations = absl::GetFlag(FLAGS_iterations);
  if (iterations < 1 || iterations > 16) {
    return absl::InvalidArgumentError("--iterations must be 1..16");
  }
  s.refine.set_iterations(iterations);
  const std::string pairs = absl::GetFlag(FLAGS_pair_selection);
  if (pairs == "top2") {
    s.refine.set_pair_selection(pb::TOP2);
  } else if (pairs == "top2_diverse") {
    s.refine.set_pair_selection(pb::TOP2_DIVERSE);
  } else {
    return absl::InvalidArgumentError(
        "--pair_selection must be top2 or top2_diverse");
  }
  s.refine.set_top_k(std::max(0, absl::GetFlag(FLAGS_top_k)));
  s.refine.set_exclude_used(absl::GetFlag(FLAGS_exclude_used));
  s.refine.set_show_verdicts(absl::GetFlag(FLAGS_show_verdicts));
  s.proposer = ProposerOptionsFromFlags();
  REWARDD_ASSIGN_OR_RETURN(s.verifier, VerifierOptionsFromFlags());
  s.deadline = RubricCallDeadline();
  if (s.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--rubric_deadline_seconds must be > 0");
  }
  return s;
}

// What one prompt's work produced.
struct Outcome {
  std::unique_ptr<RefinementRecorder> recorder;
  absl::Status run_wide_error;  // stops the run (IsRunWideError)
  std::string derived_set;      // a starting rubric's set, by reference
  std::string derived_set_version;
};

// `status` with the record it came from in front of its message.
absl::Status ForItem(const RefineItem& item, const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat(item.location, " (id '", item.id, "'): ", status.message()));
}

// The starting rubric (fetched, inline or generated), then the refinement.
Outcome RefineOne(RewardClient& client, const RefineItem& item,
                  const RefineSettings& settings) {
  Outcome out;
  std::optional<pb::Rubric> start = item.rubric;
  std::string origin = "given";
  std::vector<pb::RubricVersionInfo> start_lineage;
  absl::Status early;
  Json generation_warnings = Json::array();
  if (!item.rubric_set.empty()) {
    origin = "reference";
    absl::StatusOr<pb::GetRubricResponse> r =
        client.GetRubric(item.rubric_set, item.rubric_id);
    if (r.ok()) {
      start = r->rubric();
      start_lineage.assign(r->lineage().begin(), r->lineage().end());
      out.derived_set = r->rubric_set();
      out.derived_set_version = r->set_version();
    } else {
      early = absl::Status(
          r.status().code(),
          absl::StrCat("rubric_set/rubric_id '", item.rubric_set, "'/'",
                       item.rubric_id, "': ", r.status().message()));
    }
  } else if (!start.has_value()) {
    origin = "generated";
    pb::GenerateRubricRequest g;
    g.set_prompt(item.request.prompt());
    *g.mutable_messages() = item.request.messages();
    *g.mutable_options() = settings.proposer;
    g.set_rubric_id(item.id);
    absl::StatusOr<pb::GenerateRubricResponse> r =
        client.GenerateRubric(g, settings.deadline);
    if (r.ok()) {
      start = r->rubric();
      start_lineage.push_back(r->provenance());
      for (const std::string& w : r->warnings())
        generation_warnings.push_back(w);
    } else {
      early = absl::Status(r.status().code(),
                           absl::StrCat("generating the starting rubric: ",
                                        r.status().message()));
      if (IsRunWideError(r.status()))
        out.run_wide_error = ForItem(item, r.status());
    }
  }
  out.recorder = std::make_unique<RefinementRecorder>(item, start, origin,
                                                      std::move(start_lineage));
  if (!generation_warnings.empty()) {
    out.recorder->AddReportField("generation_warnings", generation_warnings);
  }
  if (!early.ok()) {
    out.recorder->Finish(early);
    return out;
  }
  pb::RefineRubricRequest request = item.request;
  *request.mutable_rubric() = *start;
  *request.mutable_refine() = settings.refine;
  *request.mutable_proposer() = settings.proposer;
  *request.mutable_verifier() = settings.verifier;
  request.set_deadline_ms(absl::ToInt64Milliseconds(settings.deadline));
  RefinementRecorder& recorder = *out.recorder;
  // The client's deadline leaves the server time to send its final event
  // after the refinement's own deadline.
  absl::Status status = client.RefineRubric(
      request, settings.deadline + absl::Seconds(30),
      [&recorder](const pb::RefineRubricEvent& e) { recorder.OnEvent(e); });
  if (IsRunWideError(status)) out.run_wide_error = ForItem(item, status);
  recorder.Finish(status);
  return out;
}

// Collects outcomes from the workers and rewrites the outputs.
class OutputSink {
 public:
  OutputSink(KeyedRecordFile set, KeyedRecordFile report,
             absl::Duration flush_every, ProgressBar* progress)
      : set_(std::move(set)),
        report_(std::move(report)),
        flush_every_(flush_every),
        progress_(progress) {}

  // Returns false when the run must stop.
  bool Add(Outcome outcome) {
    absl::MutexLock lock(&mu_);
    if (!outcome.run_wide_error.ok()) {
      if (run_wide_error_.ok()) run_wide_error_ = outcome.run_wide_error;
      return false;
    }
    RefinementRecorder& r = *outcome.recorder;
    if (!outcome.derived_set.empty() && derived_set_.empty()) {
      derived_set_ = outcome.derived_set;
      derived_set_version_ = outcome.derived_set_version;
    }
    ++counts_[r.status()];
    if (r.status() == "failed" || r.status() == "rejected_proposals") {
      PrintError(absl::StrCat(r.Report()["id"].get<std::string>(), ": ",
                              r.status(), ": ", r.reason()));
    }
    if (std::optional<Json> record = r.SetRecord()) set_.Put(*record);
    report_.Put(r.Report());
    ++pending_;
    if (progress_ != nullptr) progress_->Add(1, r.status() == "failed");
    if (absl::Now() - last_flush_ >= flush_every_) FlushLocked();
    return write_error_.ok();
  }

  // Writes whatever is not written yet; the first write error, if any.
  absl::Status Flush(Json provenance) {
    absl::MutexLock lock(&mu_);
    if (!derived_set_.empty()) {
      provenance["derived_from"] = derived_set_;
      provenance["derived_from_version"] = derived_set_version_;
    }
    set_.set_provenance(std::move(provenance));
    if (pending_ > 0 || set_.size() > 0) FlushLocked();
    return write_error_;
  }

  void SetProvenance(Json provenance) {
    absl::MutexLock lock(&mu_);
    set_.set_provenance(std::move(provenance));
  }
  absl::Status run_wide_error() {
    absl::MutexLock lock(&mu_);
    return run_wide_error_;
  }
  int Count(const std::string& status) {
    absl::MutexLock lock(&mu_);
    auto it = counts_.find(status);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // The report first: a crash between the two leaves a prompt reported
    // but not in the set, which a rerun redoes (it needs both).
    absl::Status s = report_.Write();
    // An empty set file would fail to load in a --rubric_dir.
    if (s.ok() && set_.size() > 0) s = set_.Write();
    if (!s.ok() && write_error_.ok()) write_error_ = s;
    pending_ = 0;
    last_flush_ = absl::Now();
  }

  absl::Mutex mu_;
  KeyedRecordFile set_ ABSL_GUARDED_BY(mu_);
  KeyedRecordFile report_ ABSL_GUARDED_BY(mu_);
  const absl::Duration flush_every_;
  ProgressBar* const progress_;
  absl::Time last_flush_ ABSL_GUARDED_BY(mu_) = absl::Now();
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::string derived_set_ ABSL_GUARDED_BY(mu_);
  std::string derived_set_version_ ABSL_GUARDED_BY(mu_);
  absl::Status run_wide_error_ ABSL_GUARDED_BY(mu_);
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
};

// Done in an earlier run: reported "refined" or "unchanged", and its rubric
// in the set file. Prompts that failed or had proposals rejected are done
// again (from their starting rubric), so rerunning until the exit code is 0
// retries exactly what did not work.
bool AlreadyDone(const RefineItem& item, const KeyedRecordFile& set,
                 const KeyedRecordFile& report) {
  const Json* line = report.Find(item.id);
  if (line == nullptr) return false;
  const std::string status = line->value("status", "");
  if (status != "refined" && status != "unchanged") return false;
  const std::string rubric_id = line->value("rubric_id", "");
  return rubric_id.empty() || set.Has(rubric_id);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Json Provenance(const KeyedRecordFile& set, const RefineSettings& settings,
                const std::string& input) {
  Json p = set.provenance().is_object() ? set.provenance() : Json::object();
  p["produced_by"] = "reward-cli refine";
  if (!p.contains("derived_from")) p["derived_from"] = BaseName(input);
  p["updated"] =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  p["options"] = {{"iterations", settings.refine.iterations()},
                  {"pair_selection", absl::GetFlag(FLAGS_pair_selection)},
                  {"exclude_used", settings.refine.exclude_used()},
                  {"show_verdicts", settings.refine.show_verdicts()},
                  {"proposer", settings.proposer.proposer()},
                  {"verifier_judge", settings.verifier.judge()}};
  return p;
}

// The refine input: --input's records, or with --from_tail_log the tail
// log's saturated groups as refine records (tail_dataset.h: one record per
// rubric, its tied top responses as candidates, the logged rubric as the
// starting one by reference), limited to --rubric_set when given.
absl::StatusOr<std::vector<JsonRecord>> ReadRefineRecords(
    const std::string& input) {
  const std::string dir = absl::GetFlag(FLAGS_from_tail_log);
  if (dir.empty()) return ReadJsonRecords(input);
  if (!input.empty() && input != "-") {
    return absl::InvalidArgumentError(
        "refine: give --input or --from_tail_log, not both");
  }
  TailDatasetOptions options;
  options.rubric_set = absl::GetFlag(FLAGS_rubric_set);
  absl::StatusOr<TailDataset> d = ReadTailDataset(dir, options);
  if (!d.ok()) return d.status();
  if (d->refine_records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--from_tail_log=", dir,
        ": no saturated group of a rubric by reference to refine"));
  }
  std::vector<JsonRecord> records;
  for (size_t i = 0; i < d->refine_records.size(); ++i) {
    records.push_back({d->refine_records[i], d->refine_locations[i]});
  }
  return records;
}

int Refine(CommandContext& context) {
  const std::string input = absl::GetFlag(FLAGS_input);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty() || output == "-") {
    PrintError("refine needs --output=FILE (the rubric set written)");
    return kExitInput;
  }
  absl::StatusOr<RefineSettings> settings = SettingsFromFlags();
  if (!settings.ok()) {
    PrintError(std::string(settings.status().message()));
    return kExitInput;
  }
  absl::StatusOr<std::vector<JsonRecord>> records = ReadRefineRecords(input);
  absl::StatusOr<std::vector<RefineItem>> items =
      records.ok() ? ParseRefineInput(*records) : records.status();
  if (!items.ok()) {
    PrintError(std::string(items.status().message()));
    return kExitInput;
  }
  std::string report_path = absl::GetFlag(FLAGS_report);
  if (report_path.empty()) report_path = output + ".report";
  absl::StatusOr<KeyedRecordFile> set =
      KeyedRecordFile::Open(output, KeyedRecordFile::Layout::kRubricSet);
  absl::StatusOr<KeyedRecordFile> report =
      set.ok()
          ? KeyedRecordFile::Open(report_path, KeyedRecordFile::Layout::kJsonl)
          : set.status();
  if (!report.ok()) {
    PrintError(std::string(report.status().message()));
    return kExitInput;
  }
  std::vector<const RefineItem*> todo;
  for (const RefineItem& item : *items) {
    if (!AlreadyDone(item, *set, *report)) todo.push_back(&item);
  }
  if (todo.size() < items->size()) {
    std::fprintf(stderr, "reward-cli: %zu of %zu prompts already done in %s\n",
                 items->size() - todo.size(), items->size(), output.c_str());
  }
  if (todo.empty()) return kExitOk;
  if (int code = CheckReachable(context.client); code != kExitOk) return code;

  const Json provenance = Provenance(*set, *settings, input);
  std::unique_ptr<ProgressBar> progress;
  if (ShowProgress()) progress = std::make_unique<ProgressBar>(todo.size());
  OutputSink sink(*std::move(set), *std::move(report),
                  absl::Seconds(absl::GetFlag(FLAGS_flush_seconds)),
                  progress.get());
  sink.SetProvenance(provenance);
  if (progress != nullptr) progress->Start();
  std::atomic<bool> stop{false};
  ParallelFor(
      todo.size(), absl::GetFlag(FLAGS_concurrency),
      [&](size_t i) {
        if (!sink.Add(RefineOne(context.client, *todo[i], *settings))) {
          stop = true;
        }
      },
      &stop);
  if (progress != nullptr) progress->Stop();
  const absl::Status written = sink.Flush(provenance);
  if (absl::Status e = sink.run_wide_error(); !e.ok()) {
    PrintError(absl::StrCat("stopped, nothing more written: ", e.ToString()));
    return kExitInput;
  }
  if (!written.ok()) {
    PrintError(written.ToString());
    return kExitUnreachable;
  }
  const int failed = sink.Count("failed");
  const int rejected = sink.Count("rejected_proposals");
  std::fprintf(stderr,
               "reward-cli: %zu prompts: %d refined, %d unchanged, %d with "
               "rejected proposals, %d failed -> %s, %s\n",
               todo.size(), sink.Count("refined"), sink.Count("unchanged"),
               rejected, failed, output.c_str(), report_path.c_str());
  return failed + rejected > 0 ? kExitPartial : kExitOk;
}

}  // namespace

const Command kRefineCommand = {
    "refine",
    R"(  refine  Refine rubrics by Refinement-through-Differentiation:
            reward-cli refine --input=prompts.jsonl \
                --output=refined.rewardd.json [--report=FILE] \
                [--iterations=4] [--pair_selection=top2|top2_diverse] \
                [--exclude_used] [--show_verdicts] [--proposer=NAME] \
                [--verifier_judge=NAME] [--concurrency=16]
          Input: {id, prompt | messages, responses: [str | {generator,
          response}], optional rubric | rubric_set + rubric_id}. Resumes:
          ids already done in --output/--report are skipped.
          --from_tail_log=DIR [--rubric_set=S] instead of --input: the
          rubrics whose groups saturated in rewardd's tail log, refined
          from their tied top responses (a new version, for review).
          Exit codes: 0 ok; 1 bad usage or input; 2 server unreachable or
          output not writable; 3 some prompts failed or had proposals
          rejected (all are in the outputs with a status).)",
    /*takes_args=*/false, Refine};

}  // namespace rewardd::cli
