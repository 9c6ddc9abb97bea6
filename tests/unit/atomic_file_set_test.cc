// WriteFilesAtomically (client/cli/atomic_file_set.h): all files or none.
#include "client/cli/atomic_file_set.h"

#include <dirent.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

TEST(AtomicFileSetTest, WritesEveryFileOrNone) {
  std::string dir = ::testing::TempDir() + "/atomic_file_set_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::ofstream(dir + "/a.jsonl") << "old a\n";
  ASSERT_TRUE(WriteFilesAtomically({{dir + "/a.jsonl", "new a\n"},
                                    {dir + "/b.jsonl", "new b\n"}})
                  .ok());
  EXPECT_EQ(Read(dir + "/a.jsonl"), "new a\n");
  EXPECT_EQ(Read(dir + "/b.jsonl"), "new b\n");
  // The second file cannot be written: the first keeps its old content and
  // no temporary is left behind.
  absl::Status s = WriteFilesAtomically(
      {{dir + "/a.jsonl", "newer a\n"}, {dir + "/missing/b.jsonl", "x"}});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot write " + dir +
                                     "/missing/b.jsonl: No such file"));
  EXPECT_EQ(Read(dir + "/a.jsonl"), "new a\n");
  EXPECT_THAT(Names(dir), UnorderedElementsAre("a.jsonl", "b.jsonl"));
}

}  // namespace
}  // namespace rewardd::cli
