#include "server/service/inline_rubric_cache.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/service/proto_convert.h"
#include "server/util/status_macros.h"

namespace rewardd {
namespace {

// Deterministic: equal messages give equal bytes (map order is fixed).
std::string Key(const reward::v1::Rubric& proto) {
  std::string key;
  key.reserve(proto.ByteSizeLong());
  google::protobuf::io::StringOutputStream stream(&key);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  proto.SerializeToCodedStream(&out);
  return key;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Rubric>> InlineRubricCache::Get(
    const reward::v1::Rubric& proto) {
  std::string key = Key(proto);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rubrics_.find(key);
    if (it != rubrics_.end()) return it->second;
  }
  REWARDD_ASSIGN_OR_RETURN(Rubric rubric, RubricFromProto(proto));
  auto shared = std::make_shared<const Rubric>(std::move(rubric));
  if (capacity_ == 0) return shared;
  std::lock_guard<std::mutex> lock(mu_);
  if (rubrics_.size() >= capacity_) rubrics_.clear();
  rubrics_.emplace(std::move(key), shared);
  return shared;
}

size_t InlineRubricCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rubrics_.size();
}

}  // namespace rewardd
