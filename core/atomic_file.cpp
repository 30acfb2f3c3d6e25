#include "core/atomic_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace revup {

void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(path + ": cannot write, folder " + dir.string() + " does not exist");
  }
  const fs::path temporary =
      dir / (".revup-write-" + std::to_string(::getpid()) + "-" + target.filename().string());
  const fs::path written = temporary / target.filename();
  fs::remove_all(temporary, ec);
  try {
    if (!fs::create_directory(temporary, ec) || ec) {
      throw std::runtime_error("cannot create a temporary folder there (" + ec.message() + ")");
    }
    write(written.string());
    if (!fs::exists(written)) throw std::runtime_error("the writer produced no file");
    // Companions first, the named file last: whoever sees `path` sees it whole.
    for (const auto& entry : fs::directory_iterator(temporary)) {
      if (entry.path() != written) fs::rename(entry.path(), dir / entry.path().filename());
    }
    fs::rename(written, target);
    fs::remove_all(temporary, ec);
  } catch (const std::exception& e) {
    fs::remove_all(temporary, ec);
    throw std::runtime_error(path + ": could not be written (" + std::string(e.what()) + ")");
  }
}

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw std::runtime_error("write failed (disk full or no permission?)");
}

}  // namespace

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  // Serialized in memory first: LibTorch 1.13's file writer throws from its
  // destructor when the disk fills up, which aborts the process. A
  // checkpoint is small next to the activations of one step.
  std::ostringstream bytes(std::ios::binary);
  archive.save_to(bytes);
  const auto data = std::move(bytes).str();
  write_atomically(path, [&](const std::string& tmp) { write_bytes(tmp, data); });
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) { write_bytes(tmp, text); });
}

}  // namespace revup
