#pragma once
// Checks of a LibTorch archive (our checkpoints) before LibTorch opens it,
// for two faults of LibTorch's own readers that fuzzing found.
//
// 1. A LibTorch archive carries TorchScript source under
// code/: one class per saved module, declaring its parameters, buffers and
// attribute types. InputArchive::load_from compiles that source, and
// LibTorch 1.13's compiler dereferences a wild pointer on some garbled
// declarations (ScriptTypeParser::parseClassConstant, found by fuzzing:
// tests/fuzz/crashes/checkpoint/libtorch_parse_class_constant_*.pt), so
// predict, export and --resume would crash on a damaged file instead of
// reporting it. The check reads those records before LibTorch compiles them
// and accepts only what torch::serialize::OutputArchive writes (LibTorch
// 1.13 and 2.x alike): a class header, __parameters__/__buffers__ lists,
// __annotations__ entries and `name : Type` lines.
//
// 2. Its pickles (data.pkl, constants.pkl) hold strings and byte strings
// prefixed by their length, and LibTorch's unpickler allocates and zero-fills
// that length before it finds the record too short: a 70 KB file asked for
// 4 GB (tests/fuzz/crashes/checkpoint/libtorch_unpickler_4gb_string.pt). The
// check walks each pickle's opcodes and refuses a length longer than what is
// left of the record.
#include <string>

namespace revup {

// Empty when the archive at `path` passes both checks, otherwise which
// record fails and why. LibTorch's own errors (not a zip archive, a
// truncated one) come through as c10::Error.
std::string archive_problem(const std::string& path);

// The check of one code record's text: empty, or "line N '...' is not ...".
std::string code_record_problem(const std::string& text);

// The check of one pickle: empty, or "at byte N, ...". Stops at STOP and at
// an opcode it does not know (LibTorch refuses those itself).
std::string pickle_problem(const std::string& bytes);

}  // namespace revup
