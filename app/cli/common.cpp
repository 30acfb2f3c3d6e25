#include <torch/torch.h>

#include <csignal>
#include <filesystem>
#include <stdexcept>

#include "app/cli/commands.h"
#include "core/atomic_file.h"

namespace revup::cli {
namespace fs = std::filesystem;

void write_json(const std::string& path, const nlohmann::json& j) {
  write_text_atomically(path, j.dump(2) + "\n");
}

void check_output_folder(const std::string& path, bool may_create) {
  std::error_code ec;
  if (may_create) {
    if (fs::exists(path, ec) && !fs::is_directory(path, ec)) {
      throw std::runtime_error(path + ": cannot write a run there, it is a file, not a folder");
    }
    return;
  }
  if (fs::is_directory(path, ec)) {
    throw std::runtime_error(path + ": cannot write, it is a folder");
  }
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(path + ": cannot write, folder " + dir.string() + " does not exist");
  }
}

void ignore_file_size_signal() { std::signal(SIGXFSZ, SIG_IGN); }

}  // namespace revup::cli
