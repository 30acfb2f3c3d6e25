#pragma once
// What every harness shares: a scratch folder of its own, writing the input
// where a reader takes a path, and the one rule they check. A reader given
// bad bytes may only throw our clear error: std::runtime_error or
// std::invalid_argument whose message names the file. Anything else (a raw
// nlohmann or c10 error, std::out_of_range from std::stoll, bad_alloc, ...)
// is reported and aborts, so libFuzzer and the replay test count it as a crash.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace revup::fuzz {

// A folder under $TMPDIR (or /tmp) made once per process, removed at exit.
const std::string& scratch_dir();
// scratch_dir()/name, a folder, made if missing.
std::string scratch_subdir(const std::string& name);
// scratch_dir()/name, holding exactly these bytes.
std::string write_input(const std::string& name, const uint8_t* data, size_t size);
void write_text(const std::string& path, const std::string& text);

// Runs `read`; returns true when it returned, false when it threw our clear
// error mentioning `names` (a path, or the folder every file of the input
// lies in); aborts on any other outcome.
bool expect_clear_error(const std::string& names, const std::function<void()>& read);

// Aborts with `what`: a reader returned something its caller cannot use.
[[noreturn]] void fail(const std::string& what);

// One LibTorch thread: a harness is one process per core, and runs repeat.
void init_torch();

}  // namespace revup::fuzz
