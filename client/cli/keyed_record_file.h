// KeyedRecordFile: an output file of JSON records keyed by a string field,
// held in memory and rewritten whole and atomically (atomic_file.h) so that
// it is valid at every moment: a killed run leaves the last complete
// version, and a rerun reads it back to skip what is done (resume).
//
// Two layouts:
//  - kRubricSet: rewardd's whole-file rubric set form,
//      {"provenance": {...}, "rubrics": [record, ...]}
//    keyed by each record's "id" (loadable by rewardd --rubric_dir);
//  - kJsonl: one record a line, keyed by `key` (reports).
//
//   absl::StatusOr<KeyedRecordFile> out =
//       KeyedRecordFile::Open("refined.rewardd.json",
//                             KeyedRecordFile::Layout::kRubricSet);
//   if (!out->Has("q1")) out->Put(record);
//   absl::Status s = out->Write();
//
// Thread-safety: not thread-safe; the caller serializes access.
#ifndef REWARDD_CLIENT_CLI_KEYED_RECORD_FILE_H_
#define REWARDD_CLIENT_CLI_KEYED_RECORD_FILE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rewardd::cli {

class KeyedRecordFile {
 public:
  enum class Layout { kRubricSet, kJsonl };

  // Reads `path` when it exists (it must have the layout; records without
  // the key are an error naming the record), else starts empty.
  static absl::StatusOr<KeyedRecordFile> Open(std::string path, Layout layout,
                                              std::string key = "id");

  const std::string& path() const { return path_; }
  size_t size() const { return records_.size(); }
  bool Has(const std::string& key) const { return index_.contains(key); }
  // nullptr when absent.
  const nlohmann::json* Find(const std::string& key) const;
  // Replaces the record with the same key, else appends. The record must
  // have the key as a string.
  void Put(nlohmann::json record);
  // kRubricSet: the "provenance" object written with the set.
  void set_provenance(nlohmann::json provenance) {
    provenance_ = std::move(provenance);
  }
  const nlohmann::json& provenance() const { return provenance_; }

  // Writes every record, in insertion order, atomically.
  absl::Status Write() const;

 private:
  KeyedRecordFile(std::string path, Layout layout, std::string key)
      : path_(std::move(path)), layout_(layout), key_(std::move(key)) {}
  absl::Status Load(const std::string& content);
  absl::Status Add(nlohmann::json record, const std::string& location);

  std::string path_;
  Layout layout_;
  std::string key_;
  nlohmann::json provenance_ = nlohmann::json::object();
  std::vector<nlohmann::json> records_;
  absl::flat_hash_map<std::string, size_t> index_;
};

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_KEYED_RECORD_FILE_H_
