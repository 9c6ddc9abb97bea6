// The rewardd command-line flags (defined in flags.cc; `rewardd --help`
// lists them) and their translation into ServerOptions.
//
//   SetFlagsUsage();  // before parsing: --help lists these flags
//   absl::ParseCommandLine(argc, argv);
//   absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
//
// Thread-safety: call after absl::ParseCommandLine, from main().
#ifndef REWARDD_SERVER_MAIN_FLAGS_H_
#define REWARDD_SERVER_MAIN_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/main/server_options.h"
#include "server/util/log.h"

namespace rewardd {

// Makes --help and --helpshort list the flags of flags.cc (by default they
// list those of the file that holds main()).
void SetFlagsUsage();

// The ServerOptions the flags describe; INVALID_ARGUMENT naming the flag
// when one is bad (logged as "bad_flag", as rewardd always has).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

// --log_level; INVALID_ARGUMENT when it is not debug, info, warning or error.
absl::StatusOr<LogLevel> LogLevelFromFlags();

}  // namespace rewardd

#endif  // REWARDD_SERVER_MAIN_FLAGS_H_
