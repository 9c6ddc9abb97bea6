// The example rubric sets (examples/rubrics) as the integration tests use
// them: the folder, and prompts that select a rubric of the demo set by
// prompt. Keep these in step with examples/rubrics/demo.json.
#ifndef REWARDD_TESTS_INTEGRATION_EXAMPLE_RUBRICS_H_
#define REWARDD_TESTS_INTEGRATION_EXAMPLE_RUBRICS_H_

#include <string>

namespace rewardd::testing {

// --rubric_dir for a rewardd that serves the example sets.
inline const std::string kExampleRubricDir =
    std::string(REWARDD_SOURCE_DIR) + "/examples/rubrics";

// The prompt of the demo set's arithmetic rubric (found by prompt).
inline const std::string kDemoArithPrompt =
    "A train travels 120 km in 1.5 hours. What is its average speed in km/h? "
    "Show your work and end with 'Answer: <number>'.";

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_INTEGRATION_EXAMPLE_RUBRICS_H_
