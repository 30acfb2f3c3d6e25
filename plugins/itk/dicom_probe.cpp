#include "plugins/itk/dicom_probe.h"

#include <itkGDCMImageIO.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace revup::itk_plugin {
namespace {

// The child's report, one line per file:
// index \t readable \t frames \t instance \t series \t position \t orientation \t problem
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

// "ITK ERROR: GDCMImageIO(0x55d7...): Failed to ..." -> "Failed to ...".
std::string without_itk_prefix(const std::string& description) {
  const auto colon = description.find("): ");
  return description.rfind("ITK ERROR:", 0) == 0 && colon != std::string::npos
             ? description.substr(colon + 3)
             : description;
}

bool has_dicom_magic(const std::string& path) {
  char head[132] = {};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  const size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return n == sizeof head && std::memcmp(head + 128, "DICM", 4) == 0;
}

// What the child wrote to its stderr (GDCM's warnings) since `offset`.
std::string said_since(off_t offset) {
  std::string text;
  char chunk[4096];
  ssize_t n;
  while ((n = ::pread(STDERR_FILENO, chunk, sizeof chunk, offset)) > 0) {
    text.append(chunk, static_cast<size_t>(n));
    offset += n;
  }
  return text;
}

// Runs in the child: everything GDCM does with the file when RevUp reads it.
std::string probe_line(size_t index, const std::string& path) {
  std::string readable = "0", frames = "1", instance = "0", series, position, orientation, problem;
  const off_t stderr_before = ::lseek(STDERR_FILENO, 0, SEEK_END);
  try {
    auto io = itk::GDCMImageIO::New();
    if (!io->CanReadFile(path.c_str())) {
      problem = has_dicom_magic(path) ? "DICOM, but not an image GDCM can read (no pixel data?)"
                                      : "not a DICOM file";
    } else {
      io->SetFileName(path);
      io->ReadImageInformation();
      io->GetValueFromTag("0020|000e", series);
      io->GetValueFromTag("0020|0013", instance);
      io->GetValueFromTag("0020|0032", position);
      io->GetValueFromTag("0020|0037", orientation);
      if (io->GetNumberOfDimensions() > 2) frames = std::to_string(io->GetDimensions(2));
      // Decoding is where GDCM meets JPEG 2000 or cut pixel data.
      std::vector<char> pixels(io->GetImageSizeInBytes());
      io->Read(pixels.data());
      // GDCM reads a file cut inside its pixel data, says so on stderr and
      // hands back what is there; RevUp would show garbage slices.
      if (said_since(stderr_before).find("Incomplete Pixel Data") != std::string::npos) {
        problem = "its pixel data is cut short (a truncated file)";
      } else {
        readable = "1";
      }
    }
  } catch (const itk::ExceptionObject& e) {
    problem = "GDCM cannot read it: " + without_itk_prefix(e.GetDescription());
  } catch (const std::exception& e) {
    problem = std::string("GDCM cannot read it: ") + e.what();
  }
  return std::to_string(index) + "\t" + readable + "\t" + frames + "\t" + one_line(instance) +
         "\t" + one_line(series) + "\t" + one_line(position) + "\t" + one_line(orientation) + "\t" +
         one_line(problem) + "\n";
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void run_child(const std::vector<std::string>& paths, size_t first, int report_fd,
                            int stderr_fd) {
  // GDCM's own complaints (and its assertion text) go to a file the parent
  // reads when the child dies, not onto the user's terminal.
  ::dup2(stderr_fd, STDERR_FILENO);
  for (size_t i = first; i < paths.size(); ++i) write_all(report_fd, probe_line(i, paths[i]));
  // _exit: no atexit handlers or static destructors of the parent's libraries.
  ::_exit(0);
}

template <size_t N>
bool numbers(const std::string& s, std::array<double, N>& out) {
  const auto parts = split(s, '\\');
  if (parts.size() != N) return false;
  for (size_t i = 0; i < N; ++i) {
    char* end = nullptr;
    out[i] = std::strtod(parts[i].c_str(), &end);
    if (end == parts[i].c_str()) return false;
  }
  return true;
}

// Returns the index the line reports on.
size_t take_line(const std::string& line, std::vector<DicomProbe>& results) {
  auto f = split(line, '\t');
  f.resize(8);
  const size_t i = std::stoul(f[0]);
  DicomProbe& p = results.at(i);
  p.readable = f[1] == "1";
  p.frames = std::atoi(f[2].c_str());
  p.instance = std::atoi(f[3].c_str());
  p.series_uid = f[4];
  p.has_position = numbers(f[5], p.position);
  if (!numbers(f[6], p.orientation)) p.orientation = {1, 0, 0, 0, 1, 0};
  p.problem = f[7];
  return i;
}

std::string last_line_of(FILE* file) {
  std::string text;
  std::rewind(file);
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const auto start = text.rfind('\n');
  text = one_line(start == std::string::npos ? text : text.substr(start + 1));
  return text.size() > 300 ? text.substr(0, 300) + "..." : text;
}

// One child from paths[first] on; returns the first index not yet settled.
// fork() without exec: the child uses only ITK/GDCM and malloc. In the GUI or
// under LibTorch's thread pools another thread may hold a lock at the moment
// of the fork; the child would then hang on it, which the per-file timeout
// turns into a reported file instead of a hung RevUp.
size_t probe_from(const std::vector<std::string>& paths, size_t first,
                  std::vector<DicomProbe>& results, int seconds_per_file) {
  int fds[2];
  if (::pipe(fds) != 0) {
    throw std::runtime_error(std::string("cannot check the DICOM files (pipe: ") +
                             std::strerror(errno) + ")");
  }
  FILE* child_stderr = std::tmpfile();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    run_child(paths, first, fds[1], child_stderr ? fileno(child_stderr) : STDERR_FILENO);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    if (child_stderr) std::fclose(child_stderr);
    throw std::runtime_error(std::string("cannot check the DICOM files (fork: ") +
                             std::strerror(errno) + ")");
  }
  size_t settled = first;
  bool hung = false;
  std::string pending;
  while (true) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, seconds_per_file * 1000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      hung = true;
      ::kill(pid, SIGKILL);
      break;
    }
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child finished, or died
    pending.append(chunk, static_cast<size_t>(n));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
      settled = take_line(pending.substr(0, eol), results) + 1;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (settled < paths.size()) {  // the child stopped on paths[settled]
    DicomProbe& p = results[settled];
    p.readable = false;
    if (hung) {
      p.problem = "GDCM did not finish reading it in " + std::to_string(seconds_per_file) + " s";
    } else if (WIFSIGNALED(status)) {
      p.problem = std::string("GDCM crashed reading it (") + ::strsignal(WTERMSIG(status)) + ")";
    } else {
      p.problem = "GDCM stopped reading it (exit " + std::to_string(WEXITSTATUS(status)) + ")";
    }
    const std::string said = child_stderr ? last_line_of(child_stderr) : "";
    if (!said.empty()) p.problem += ": " + said;
    ++settled;
  }
  if (child_stderr) std::fclose(child_stderr);
  return settled;
}

}  // namespace

std::vector<DicomProbe> probe_dicom_files(const std::vector<std::string>& paths,
                                          int seconds_per_file) {
  std::vector<DicomProbe> results(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    results[i].path = paths[i];
    results[i].problem = "not checked";
  }
  for (size_t next = 0; next < paths.size();) {
    next = probe_from(paths, next, results, seconds_per_file);
  }
  return results;
}

}  // namespace revup::itk_plugin
