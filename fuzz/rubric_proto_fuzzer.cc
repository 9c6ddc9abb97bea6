// Fuzz target: inline rubrics from the public API
// (rewardd::RubricFromProto, server/service/proto_convert.h). Every
// GradeRequest may carry one, so any client can send these bytes. The input
// is a serialized reward.v1.Rubric; whatever parses must either convert into
// a valid rubric or be refused, and a converted rubric must survive the round
// trip through RubricToProto with the same version.
//
//   fuzz/corpus/rubric_proto/   seeds: examples/rubrics as binary protos
//   scripts/fuzz.sh 60 rubric_proto
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "reward/v1/reward.pb.h"
#include "server/rubric/rubric.h"
#include "server/service/proto_convert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  reward::v1::Rubric proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<Rubric> rubric = RubricFromProto(proto);
  if (!rubric.ok()) {
    FUZZ_CHECK(!rubric.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!rubric->criteria.empty());
  FUZZ_CHECK(rubric->version == RubricVersion(*rubric));
  Rubric copy = *rubric;
  FUZZ_CHECK(ValidateRubric(copy).ok());

  reward::v1::Rubric round_trip;
  RubricToProto(*rubric, &round_trip);
  absl::StatusOr<Rubric> again = RubricFromProto(round_trip);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->version == rubric->version);
  FUZZ_CHECK(again->criteria.size() == rubric->criteria.size());
  return 0;
}
