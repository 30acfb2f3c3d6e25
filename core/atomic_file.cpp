#include "core/atomic_file.h"

#include "core/abandoned_writes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace revup {

namespace {

namespace fs = std::filesystem;

constexpr const char* kTemporaryPrefix = ".revup-write-";

fs::path temporary_folder_for(const fs::path& dir, const fs::path& target) {
  return dir / (kTemporaryPrefix + std::to_string(::getpid()) + "-" + target.filename().string());
}

// The pid in ".revup-write-<pid>-<name>", or 0 if the name is not ours.
pid_t writer_of(const std::string& name) {
  const std::string prefix = kTemporaryPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0) return 0;
  size_t end = prefix.size();
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == prefix.size() || end >= name.size() || name[end] != '-' || end - prefix.size() > 9) {
    return 0;
  }
  return static_cast<pid_t>(std::stol(name.substr(prefix.size(), end - prefix.size())));
}

bool process_is_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Data and names reach the disk before the rename makes them visible, so that
// a power cut cannot leave a renamed but empty file (ext4 and XFS may reorder
// otherwise). A file system that cannot sync (a pipe, some FUSE) is not an
// error; a file whose data cannot reach the disk (EIO, or ENOSPC that only
// shows now) is.
void sync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("could not sync " + path.string() + " to disk (" +
                             std::strerror(error) + ")");
  }
  ::close(fd);
}

// After the rename the new file is in place whatever this says: at worst a
// power cut brings back the previous one, so a failure is not reported.
void sync_folder(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

int remove_abandoned_writes(const std::string& folder) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = writer_of(it->path().filename().string());
    if (pid <= 0 || pid == ::getpid() || !process_is_gone(pid)) continue;
    std::error_code remove_error;
    if (fs::remove_all(it->path(), remove_error) > 0 && !remove_error) ++removed;
  }
  return removed;
}

void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(path + ": cannot write, folder " + dir.string() + " does not exist");
  }
  remove_abandoned_writes(dir.string());
  const fs::path temporary = temporary_folder_for(dir, target);
  const fs::path written = temporary / target.filename();
  fs::remove_all(temporary, ec);
  try {
    if (!fs::create_directory(temporary, ec) || ec) {
      throw std::runtime_error("cannot create a temporary folder there (" + ec.message() + ")");
    }
    write(written.string());
    if (!fs::exists(written)) throw std::runtime_error("the writer produced no file");
    for (const auto& entry : fs::directory_iterator(temporary)) sync_file(entry.path());
    // Companions first, the named file last: whoever sees `path` sees it whole.
    for (const auto& entry : fs::directory_iterator(temporary)) {
      if (entry.path() != written) fs::rename(entry.path(), dir / entry.path().filename());
    }
    fs::rename(written, target);
    fs::remove_all(temporary, ec);
    sync_folder(dir);
  } catch (const std::exception& e) {
    fs::remove_all(temporary, ec);
    throw std::runtime_error(path + ": could not be written (" + std::string(e.what()) + ")");
  }
}

namespace {

// POSIX calls rather than a stream: the error says why (No space left on
// device, File too large, Permission denied) instead of only that it failed.
void write_bytes(const std::string& path, const std::string& bytes) {
  const auto failed = [](const char* what) {
    return std::runtime_error(std::string(what) + " failed: " + std::strerror(errno));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw failed("open");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const auto error = failed("write");
      ::close(fd);
      throw error;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw failed("close");
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
