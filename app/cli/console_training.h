#pragma once
// The segmentation workflow's events on the console: its start line (and,
// resuming, the epoch it continues after), then ConsoleTrainObserver's
// progress bar and epoch lines. revup-cli train and the demo use it.
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/console_observer.h"
#include "workflows/segmentation_training.h"

namespace revup::cli {

class ConsoleTraining : public SegmentationTrainingObserver {
 public:
  ConsoleTraining(int epochs, std::vector<std::string> shown, bool print_start)
      : console_(epochs, std::move(shown)), print_start_(print_start) {}
  void on_start(const TrainingStart& start) override {
    if (!print_start_) return;
    std::printf("%s\n", start.summary.c_str());
    if (start.resumed_after_epoch > 0) {
      std::printf("resuming %s after epoch %d\n", start.run_dir.c_str(), start.resumed_after_epoch);
    }
  }
  void on_step(const StepReport& s) override { console_.on_step(s); }
  void on_epoch(const EpochReport& e) override { console_.on_epoch(e); }
  bool cancel_requested() override { return console_.cancel_requested(); }

 private:
  ConsoleTrainObserver console_;
  bool print_start_;
};

}  // namespace revup::cli
