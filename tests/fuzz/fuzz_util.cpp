#include "tests/fuzz/fuzz_util.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <typeinfo>

namespace revup::fuzz {

namespace fs = std::filesystem;

namespace {

struct Scratch {
  std::string dir;
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/revup-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) fail("cannot make a scratch folder in " + pattern);
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

const std::string& scratch_dir() {
  static Scratch scratch;
  return scratch.dir;
}

std::string scratch_subdir(const std::string& name) {
  const std::string path = scratch_dir() + "/" + name;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) fail("cannot make " + path + " (" + ec.message() + ")");
  return path;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) fail("cannot write " + path);
}

std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  write_text(path, std::string(reinterpret_cast<const char*>(data), size));
  return path;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "revup fuzz: %s\n", what.c_str());
  std::abort();
}

bool expect_clear_error(const std::string& names, const std::function<void()>& read) {
  try {
    read();
    return true;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    const bool ours = dynamic_cast<const std::runtime_error*>(&e) != nullptr ||
                      dynamic_cast<const std::invalid_argument*>(&e) != nullptr;
    // c10::Error derives from std::exception alone, nlohmann's from it too:
    // neither passes, so a raw LibTorch or JSON error that escapes is found.
    if (!ours) fail(std::string("not our error: ") + typeid(e).name() + ": " + what);
    if (what.find(names) == std::string::npos) {
      fail("error does not name " + names + ": " + what);
    }
    return false;
  } catch (...) {
    fail("threw something that is not a std::exception");
  }
}

void init_torch() {
  static const bool once = [] {
    torch::set_num_threads(1);
    return true;
  }();
  (void)once;
}

}  // namespace revup::fuzz
