#include "app/cli/rank_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/distributed_environment.h"

namespace revup::cli {
namespace {
int terminal_fd = -1;  // the original stderr, once redirected
std::string rank_prefix;
}  // namespace

void send_rank_output_to_run_folder(const std::string& run_dir) {
  const auto env = DistributedEnvironment::from_environment();
  if (!env || env->rank == 0 || terminal_fd >= 0) return;
  const auto dir = std::filesystem::path(run_dir) / "logs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = (dir / ("rank-" + std::to_string(env->rank) + ".log")).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(path + ": cannot write this rank's log (" + std::strerror(errno) +
                             ")");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  terminal_fd = ::dup(STDERR_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  rank_prefix = "rank " + std::to_string(env->rank) + ": ";
  std::fprintf(stderr, "revup-cli %s (log of a torchrun worker; rank 0 shows the progress)\n",
               env->describe().c_str());
}

void print_error(const std::string& text) {
  const std::string line = "revup-cli: error: " + text + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  if (terminal_fd >= 0) {
    const std::string shown = rank_prefix + line;
    [[maybe_unused]] const auto n = ::write(terminal_fd, shown.data(), shown.size());
  }
}

}  // namespace revup::cli
