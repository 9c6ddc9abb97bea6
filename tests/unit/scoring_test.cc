#include "server/grading/scoring.h"
#include "gtest/gtest.h"
TEST(Scoring, Placeholder) {}
