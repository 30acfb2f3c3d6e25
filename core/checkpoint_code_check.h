#pragma once
// A LibTorch archive (our checkpoints) carries TorchScript source under
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
#include <string>

namespace revup {

// Empty when every code/ record of the archive at `path` is in that form,
// otherwise which record and line is not, and why. LibTorch's own errors
// (not a zip archive, a truncated one) come through as c10::Error.
std::string archive_code_problem(const std::string& path);

// The check of one record's text: empty, or "line N '...' is not ...".
std::string code_record_problem(const std::string& text);

}  // namespace revup
