#pragma once
// Files are written to a temporary name beside the target and renamed, so a
// crash, a full disk or Ctrl-C never leaves a half-written file or destroys the
// previous one.
#include <torch/torch.h>

#include <functional>
#include <string>

namespace revup {

// Calls write(temporary_path) and renames what it wrote onto `path`. The
// temporary path has `path`'s own file name, inside a hidden folder beside it,
// so writers that pick the format from the extension (.nii.gz) or add companion
// files (.mhd + .raw) work unchanged; companions are moved first, the named file
// last. On any failure the temporary folder is removed, an earlier file at
// `path` is left as it was, and std::runtime_error names `path` and the reason.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write);

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path);
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace revup
