#pragma once
// Files are written to a temporary name beside the target and renamed, so a
// crash, a full disk or Ctrl-C never leaves a half-written file or destroys the
// previous one.
#include <torch/torch.h>

#include <functional>
#include <string>

namespace revup {

// Calls write(temporary_path), then renames it onto `path`. On any failure the
// temporary is removed and std::runtime_error names `path` and the reason.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write);

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path);
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace revup
