#include "io/atomic_output.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <vector>

namespace revup {

namespace fs = std::filesystem;

void write_through_temporary_folder(const std::string& path,
                                    const std::function<void(const std::string& path)>& write) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(path + ": cannot write, folder " + dir.string() + " does not exist");
  }
  const fs::path temporary =
      dir / (".revup-write-" + std::to_string(::getpid()) + "-" + target.filename().string());
  fs::remove_all(temporary, ec);
  try {
    if (!fs::create_directory(temporary, ec) || ec) {
      throw std::runtime_error("cannot create a temporary folder there (" + ec.message() + ")");
    }
    write((temporary / target.filename()).string());
    if (!fs::exists(temporary / target.filename())) {
      throw std::runtime_error("the writer produced no file");
    }
    // Companions first, the named file last: whoever sees `path` sees it whole.
    for (const auto& entry : fs::directory_iterator(temporary)) {
      if (entry.path().filename() != target.filename()) {
        fs::rename(entry.path(), dir / entry.path().filename());
      }
    }
    fs::rename(temporary / target.filename(), target);
    fs::remove_all(temporary, ec);
  } catch (const std::exception& e) {
    fs::remove_all(temporary, ec);
    throw std::runtime_error(path + ": could not be written (" + std::string(e.what()) + ")");
  }
}

}  // namespace revup
