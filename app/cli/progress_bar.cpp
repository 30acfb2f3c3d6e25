#include "app/cli/progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/memory_tracker.h"

namespace revup::cli {

std::string format_duration(double s) {
  char buf[32];
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  }
  return buf;
}

std::string format_bytes(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", to_mib(b));
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, const std::string& status) {
  const double frac = static_cast<double>(done) / static_cast<double>(total_);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta =
      done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - done) : 0;
  const int decile = static_cast<int>(frac * 10);
  if (!tty_ && decile == last_decile_) return;
  last_decile_ = decile;
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  char line[512];
  std::snprintf(line, sizeof line, "%s [%s] %3d%% %lld/%lld  %s elapsed, ETA %s  %s",
                label_.c_str(), bar.c_str(), static_cast<int>(frac * 100),
                static_cast<long long>(done), static_cast<long long>(total_),
                format_duration(elapsed).c_str(), format_duration(eta).c_str(), status.c_str());
  if (tty_) {
    std::cerr << '\r' << line << "\033[K" << std::flush;
  } else {
    std::cerr << line << '\n';
  }
}

void ProgressBar::finish(const std::string& status) {
  if (tty_ || last_decile_ != 10) update(total_, status);
  if (tty_) std::cerr << '\n';
}

}  // namespace revup::cli
