#pragma once
// A training run as a folder a user can inspect and resume:
//   config.json           what was trained on what (the caller's description + trainer options)
//   metrics.csv           one row per epoch: loss, validation metrics, time, peak memory
//   last.pt               model + optimizer + epoch after the last completed epoch (exact resume)
//   best.pt               the same, for the epoch with the best validation score
//   memory_timeline.json  allocator bytes after every block of the last step, forward and backward
// Every file is written atomically. The CLI and the GUI drive the same class.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/trainer.h"

namespace revup {

struct TrainingRunOptions {
  std::string dir;
  bool resume = false;
  TrainerOptions trainer;
  nlohmann::json description;        // model, classes, normalization, data: stored in config.json
  std::string best_metric = "miou";  // higher is better; "" = no best.pt
};

class TrainingRun : public TrainObserver {
 public:
  // Throws std::runtime_error if the folder holds a run and resume is off, or
  // resume is on and there is nothing (or something unreadable) to resume.
  TrainingRun(TrainableModel model, LossFunction loss, TrainingRunOptions options);

  void set_evaluation(Evaluation evaluation) { trainer_.set_evaluation(std::move(evaluation)); }
  // Observers see every step, epoch and memory event (after the run has saved),
  // and are polled for a stop between steps (Ctrl-C, the GUI's Stop); last.pt
  // keeps the last completed epoch, so a stopped run resumes exactly.
  void add_observer(TrainObserver* observer) { observers_.push_back(observer); }

  // Trains to the configured epoch count; false when cancelled.
  bool fit(const Dataset& train);

  int completed_epochs() const { return trainer_.completed_epochs(); }
  double best_score() const { return best_; }
  const std::map<std::string, double>& last_metrics() const { return last_metrics_; }
  std::string path(const std::string& name) const;

  // TrainObserver (from the trainer)
  void on_step(const StepReport& step) override;
  void on_epoch(const EpochReport& epoch) override;
  void on_memory(const MemoryEvent& event) override;
  bool cancel_requested() override;

 private:
  void write_config();
  void load_metrics();

  TrainingRunOptions options_;
  Trainer trainer_;
  std::vector<TrainObserver*> observers_;
  std::string csv_;
  std::vector<std::string> columns_;
  double best_ = -1e300;
  std::map<std::string, double> last_metrics_;
  std::vector<MemoryEvent> step_events_, last_step_events_;
  std::int64_t last_step_baseline_ = 0;
};

}  // namespace revup
