#pragma once
// Training progress on the terminal: a bar with ETA per epoch (loss, peak
// memory), one summary line per epoch, and Ctrl-C as a clean stop request.
#include <memory>
#include <string>
#include <vector>

#include "app/cli/progress_bar.h"
#include "core/trainer.h"

namespace revup::cli {

class ConsoleTrainObserver : public TrainObserver {
 public:
  // `shown` lists the metrics printed after each epoch (as percentages).
  ConsoleTrainObserver(int epochs, std::vector<std::string> shown);
  ~ConsoleTrainObserver() override;

  void on_step(const StepReport& step) override;
  void on_epoch(const EpochReport& epoch) override;
  bool cancel_requested() override;

 private:
  int epochs_;
  std::vector<std::string> shown_;
  double smoothed_loss_ = 0;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace revup::cli
