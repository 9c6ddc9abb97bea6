// A main() for the fuzz targets in builds without libFuzzer (the normal gcc
// build): feeds every file under the given paths to LLVMFuzzerTestOneInput,
// so the committed corpora (seeds plus every crash ever found) run as
// regression tests under ctest, and under ASan/UBSan in the sanitizer pass.
//
//   rubric_loader_fuzz_replay fuzz/corpus/rubric_loader   # a directory
//   rubric_loader_fuzz_replay crash-1234                  # or single files
//
// Each input is copied into a buffer of exactly its size, so a read past the
// end is caught by ASan as it would be under libFuzzer. Exits non-zero when a
// path cannot be read or no input was found (a misconfigured test must not
// pass); a crashing input aborts the process, after its name was printed.
//
// Thread-safety: single-threaded program.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

bool ReadFile(const std::filesystem::path& path, std::vector<char>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in),
              std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry :
           std::filesystem::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      files.push_back(arg);
    }
    if (ec) {
      std::fprintf(stderr, "cannot read %s: %s\n", argv[i],
                   ec.message().c_str());
      return 2;
    }
  }
  // Sorted so a failure reproduces in the same order on every machine.
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no inputs under the given paths\n");
    return 2;
  }
  std::vector<char> content;
  for (const std::filesystem::path& file : files) {
    if (!ReadFile(file, &content)) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay %s (%zu bytes)\n", file.c_str(),
                 content.size());
    // Exact-size heap copy: ASan sees a read one past the end.
    std::unique_ptr<uint8_t[]> data(new uint8_t[content.size()]);
    std::copy(content.begin(), content.end(), data.get());
    LLVMFuzzerTestOneInput(data.get(), content.size());
  }
  std::fprintf(stderr, "replayed %zu inputs\n", files.size());
  return 0;
}
