#include "app/cli/console_observer.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace revup::cli {
namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }
}  // namespace

ConsoleTrainObserver::ConsoleTrainObserver(int epochs, std::vector<std::string> shown)
    : epochs_(epochs), shown_(std::move(shown)) {
  g_interrupted = false;
  std::signal(SIGINT, on_sigint);
}

ConsoleTrainObserver::~ConsoleTrainObserver() { std::signal(SIGINT, SIG_DFL); }

void ConsoleTrainObserver::on_step(const StepReport& s) {
  if (!bar_ || s.step == 1) {
    bar_ = std::make_unique<ProgressBar>(
        "epoch " + std::to_string(s.epoch) + "/" + std::to_string(epochs_), s.steps_in_epoch);
  }
  smoothed_loss_ = s.step == 1 ? s.loss : 0.9 * smoothed_loss_ + 0.1 * s.loss;
  char status[160];
  std::snprintf(status, sizeof status, "loss %.4f  %.1f s/step  step memory %s", smoothed_loss_,
                s.seconds, format_bytes(static_cast<double>(s.whole_step_own_bytes())).c_str());
  bar_->update(s.step, status);
}

void ConsoleTrainObserver::on_epoch(const EpochReport& r) {
  if (bar_) bar_->finish();
  bar_.reset();
  std::string metrics;
  for (const auto& name : shown_) {
    const auto it = r.metrics.find(name);
    if (it == r.metrics.end() || std::isnan(it->second)) continue;
    char part[96];
    std::snprintf(part, sizeof part, ", %s %.2f %%", name.c_str(), 100 * it->second);
    metrics += part;
  }
  std::printf("epoch %d: train loss %.4f%s, %s, allocator peak %s\n", r.epoch, r.train_loss,
              metrics.c_str(), format_duration(r.seconds).c_str(),
              format_bytes(static_cast<double>(r.peak_bytes)).c_str());
  std::fflush(stdout);
}

bool ConsoleTrainObserver::cancel_requested() { return g_interrupted.load(); }

}  // namespace revup::cli
