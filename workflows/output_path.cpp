#include "workflows/output_path.h"

#include <filesystem>
#include <stdexcept>

namespace revup {
namespace fs = std::filesystem;

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

}  // namespace revup
