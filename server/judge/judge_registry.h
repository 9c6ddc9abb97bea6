// The named judges a server offers, and which one is the default.
//
//   JudgeRegistry judges;
//   judges.Add(std::make_shared<EmbeddedJudge>());
//   absl::StatusOr<Judge*> j = judges.Find("");  // the default
//
// Thread-safety: built before the server starts, then read-only; Find() may
// be called from any thread.
#ifndef REWARDD_SERVER_JUDGE_JUDGE_REGISTRY_H_
#define REWARDD_SERVER_JUDGE_JUDGE_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/judge/judge.h"

namespace rewardd {

class JudgeRegistry {
 public:
  // Fails with ALREADY_EXISTS on a duplicate name. The first judge added is
  // the default until SetDefault().
  absl::Status Add(std::shared_ptr<Judge> judge);
  absl::Status SetDefault(const std::string& name);

  // `name` empty = the default. NOT_FOUND is mapped by callers to
  // INVALID_ARGUMENT (a judge name in a request is an argument); the message
  // lists the judges there are.
  absl::StatusOr<Judge*> Find(absl::string_view name) const;

  const std::string& default_name() const { return default_name_; }
  std::vector<std::string> names() const;

 private:
  absl::flat_hash_map<std::string, std::shared_ptr<Judge>> judges_;
  std::vector<std::string> order_;
  std::string default_name_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_JUDGE_REGISTRY_H_
