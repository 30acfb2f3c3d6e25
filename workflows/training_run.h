#pragma once
// Core's trainer writing a run folder (workflows/run_folder.h) that a user can
// inspect and resume exactly: config.json at the start, then after every
// epoch last.pt, metrics.csv, best.pt and memory_timeline.json. The workflows
// (CLI, demo, GUI) all train through this class.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/trainer.h"
#include "workflows/metrics_table.h"
#include "workflows/run_folder.h"

namespace revup {

// What every training workflow's request says about its run and optimizer:
// revup-cli's --out, --resume, --epochs, --lr, --weight-decay, --clip-grad,
// --seed and --device, the GUI's training panel.
struct TrainingBasics {
  std::string run_dir;
  bool resume = false;  // continue run_dir after its last.pt
  int epochs = 20;
  double lr = 0.02;  // cosine schedule; Fixup's scalars at lr/10
  double weight_decay = 1e-4;
  double clip_grad = 0.0;  // gradient norms clipped to this (0: off)
  uint64_t seed = 0;
  std::string device = "cpu";
  int accumulate = 1;  // batches per optimizer step (gradient accumulation)
  // Under torchrun: how the ranks talk (see core/data_parallel_group.h).
  DataParallelOptions parallel;
};

struct TrainingRunOptions {
  std::string dir;
  bool resume = false;
  TrainerOptions trainer;
  nlohmann::json description;        // model, classes, normalization, data: stored in config.json
  std::string best_metric = "miou";  // higher is better; "" = no best.pt
};

// Passes a trainer's events on to one observer: a workflow's, which adds
// events of its own and must not be owned by the run.
class ForwardingObserver : public TrainObserver {
 public:
  explicit ForwardingObserver(TrainObserver& out) : out_(out) {}
  void on_step(const StepReport& s) override { out_.on_step(s); }
  void on_epoch(const EpochReport& e) override { out_.on_epoch(e); }
  void on_memory(const MemoryEvent& e) override { out_.on_memory(e); }
  bool cancel_requested() override { return out_.cancel_requested(); }

 private:
  TrainObserver& out_;
};

// The run's options for `basics`: SGD with momentum and a cosine schedule on
// `device` (the one select_device gave for basics.device). Under torchrun's
// environment this joins the other ranks (options.trainer.group).
TrainingRunOptions training_run_options(const TrainingBasics& basics, const c10::Device& device);

// Rank 0 alone writes the run folder of a data-parallel run; alone, a process
// always does.
bool writes_run_folder(const TrainingRunOptions& options);

// The device this process trains on: basics.device, where "cuda" under
// torchrun means this rank's LOCAL_RANK GPU.
std::string rank_device(const TrainingBasics& basics);

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
  std::string path(const std::string& name) const { return folder_.path(name); }
  const RunFolder& folder() const { return folder_; }

  // TrainObserver (from the trainer)
  void on_step(const StepReport& step) override;
  void on_epoch(const EpochReport& epoch) override;
  void on_memory(const MemoryEvent& event) override;
  bool cancel_requested() override;

 private:
  nlohmann::json config() const;
  // Rank 0 alone writes the run folder; the others train and keep count.
  bool writes() const;
  void load_metrics();

  TrainingRunOptions options_;
  RunFolder folder_;
  Trainer trainer_;
  std::vector<TrainObserver*> observers_;
  MetricsTable metrics_;
  double best_ = -1e300;
  std::map<std::string, double> last_metrics_;
  std::vector<MemoryEvent> step_events_, last_step_events_;
  std::int64_t last_step_baseline_ = 0;
};

}  // namespace revup
