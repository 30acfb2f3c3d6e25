#include "workflows/training_run.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "core/abandoned_writes.h"
#include "core/atomic_file.h"

namespace revup {
namespace fs = std::filesystem;

namespace {
// As config.json names them.
const char* schedule_name(LrSchedule s) {
  static const std::map<LrSchedule, const char*> names = {{LrSchedule::kConstant, "constant"},
                                                          {LrSchedule::kStep, "step"},
                                                          {LrSchedule::kCosine, "cosine"}};
  return names.at(s);
}
}  // namespace

TrainingRunOptions training_run_options(const TrainingBasics& basics, const c10::Device& device) {
  TrainingRunOptions options;
  options.dir = basics.run_dir;
  options.resume = basics.resume;
  auto& t = options.trainer;
  t.epochs = basics.epochs;
  t.lr = basics.lr;
  t.weight_decay = basics.weight_decay;
  t.clip_grad_norm = basics.clip_grad;
  t.seed = basics.seed;
  t.device = device;
  t.schedule = LrSchedule::kCosine;
  return options;
}

TrainingRun::TrainingRun(TrainableModel model, LossFunction loss, TrainingRunOptions options)
    : options_(std::move(options)),
      folder_(options_.dir),
      trainer_(std::move(model), std::move(loss), options_.trainer) {
  if (options_.dir.empty()) throw std::invalid_argument("a training run needs a folder");
  const auto last = path(RunFolder::kLastCheckpoint);
  if (options_.resume) {
    if (!fs::exists(last)) throw std::runtime_error(last + ": nothing to resume");
    // Every write does this too; a resume with no epoch left writes nothing.
    remove_abandoned_writes(options_.dir);
    trainer_.load_checkpoint(last);
    load_metrics();
  } else {
    if (fs::exists(last)) {
      throw std::runtime_error(last + " exists: resume that run, or choose another run folder");
    }
    fs::create_directories(options_.dir);
    write_config();
  }
  trainer_.add_observer(this);
}

void TrainingRun::write_config() {
  const auto& t = options_.trainer;
  auto config = options_.description;
  config["training"] = {{"epochs", t.epochs},
                        {"batch_size", t.batch_size},
                        {"lr", t.lr},
                        {"momentum", t.momentum},
                        {"weight_decay", t.weight_decay},
                        {"scalar_lr_factor", t.scalar_lr_factor},
                        {"schedule", schedule_name(t.schedule)},
                        {"milestones", t.milestones},
                        {"gamma", t.gamma},
                        {"clip_grad_norm", t.clip_grad_norm},
                        {"seed", t.seed},
                        {"device", t.device.str()}};
  folder_.write_config(config);
}

void TrainingRun::load_metrics() {
  // Keep the rows of the epochs last.pt contains: a run killed after writing an
  // epoch's row but before its last.pt (see on_epoch) does that epoch again.
  metrics_ = folder_.read_metrics();
  metrics_.keep_epochs_up_to(trainer_.completed_epochs());
  if (!options_.best_metric.empty()) best_ = std::max(best_, metrics_.best(options_.best_metric));
}

bool TrainingRun::fit(const Dataset& train) { return trainer_.fit(train); }

void TrainingRun::on_step(const StepReport& step) {
  last_step_events_ = std::move(step_events_);
  step_events_.clear();
  last_step_baseline_ = step.live_before_bytes;
  for (auto* o : observers_) o->on_step(step);
}

void TrainingRun::on_memory(const MemoryEvent& event) {
  step_events_.push_back(event);
  for (auto* o : observers_) o->on_memory(event);
}

bool TrainingRun::cancel_requested() {
  for (auto* o : observers_) {
    if (o->cancel_requested()) return true;
  }
  return false;
}

void TrainingRun::on_epoch(const EpochReport& epoch) {
  last_metrics_ = epoch.metrics;
  auto row = epoch.metrics;
  row["train_loss"] = epoch.train_loss;
  row["seconds"] = epoch.seconds;
  row["peak_bytes"] = static_cast<double>(epoch.peak_bytes);
  metrics_.append(epoch.epoch, row);
  // last.pt last: it is the epoch's commit. Killed before it, the run resumes
  // from the previous epoch, drops this row and does the epoch again (seeded,
  // the same); killed after it, every file already holds the epoch. The other
  // order would lose the epoch's row for good, or its best.pt.
  folder_.write_metrics(metrics_);
  const auto score = epoch.metrics.find(options_.best_metric);
  if (!options_.best_metric.empty() && score != epoch.metrics.end() && !std::isnan(score->second) &&
      score->second > best_) {
    best_ = score->second;
    trainer_.save_checkpoint(path(RunFolder::kBestCheckpoint));
  }
  trainer_.save_checkpoint(path(RunFolder::kLastCheckpoint));
  if (!last_step_events_.empty()) {
    write_text_atomically(
        path(RunFolder::kMemoryTimeline),
        nlohmann::json{{"epoch", epoch.epoch},
                       {"baseline_bytes", last_step_baseline_},
                       {"events", timeline_json(last_step_events_, last_step_baseline_)}}
                .dump(1) +
            "\n");
  }
  for (auto* o : observers_) o->on_epoch(epoch);
}

}  // namespace revup
