// The normal build's driver for a harness (CTest label fuzz): feeds every file
// under the folders given (the corpus and the crashes found so far) to
// LLVMFuzzerTestOneInput, as libFuzzer would. A harness aborts on any outcome
// but our clear error; the handler names the file it was replaying first.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

char current[4096] = "";

void name_the_file(int sig) {
  const char prefix[] = "revup fuzz replay: crashed on ";
  (void)!write(2, prefix, sizeof prefix - 1);
  (void)!write(2, current, strlen(current));
  (void)!write(2, "\n", 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, name_the_file);
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(argv[i], ec)) files.emplace_back(argv[i]);
    for (const auto& e : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::snprintf(current, sizeof current, "%s", f.c_str());
    std::ifstream in(f, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  if (files.empty()) {  // the corpus went missing: nothing was tested
    std::fprintf(stderr, "revup fuzz replay: no input files under the folders given\n");
    return 1;
  }
  std::printf("revup fuzz replay: %zu inputs, no crash\n", files.size());
  return 0;
}
