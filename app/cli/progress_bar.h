#pragma once
// A terminal progress bar with ETA. On a terminal it redraws one line; in a log
// (no TTY) it prints a line every 10 % so CI output stays readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace revup::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  void update(int64_t done, const std::string& status = "");
  void finish(const std::string& status = "");

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);
std::string format_bytes(double bytes);

}  // namespace revup::cli
