#include "server/metrics/label_limiter.h"

#include <memory>

namespace rewardd {

LabelValueLimiter::LabelValueLimiter(size_t limit)
    : limit_(limit),
      other_{limit, std::string(kOther)},
      none_{limit + 1, std::string(kNone)},
      kept_(limit) {}

absl::string_view LabelValueLimiter::Truncate(absl::string_view raw) {
  if (raw.size() <= kMaxValueBytes) return raw;
  size_t end = kMaxValueBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && (static_cast<unsigned char>(raw[end]) & 0xC0) == 0x80) {
    --end;
  }
  return raw.substr(0, end);
}

const LabelValueLimiter::Value& LabelValueLimiter::Resolve(
    absl::string_view raw) {
  if (raw.empty()) return none_;
  const absl::string_view key = Truncate(raw);
  // The reserved names stay unambiguous: a client sending "other" or "none"
  // is counted with the bucket of that name.
  if (key == kOther) return other_;
  if (key == kNone) return none_;
  if (const Value* v = kept_.Find(key)) return *v;
  const Value* v = kept_.FindOrInsert(key, [&] {
    return std::make_unique<Value>(Value{kept_.size(), std::string(key)});
  });
  return v == nullptr ? other_ : *v;
}

}  // namespace rewardd
