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
  t.accumulation_steps = basics.accumulate;
  if (const auto env = DistributedEnvironment::from_environment()) {
    t.group = DataParallelGroup::join(*env, device, basics.parallel);
  }
  return options;
}

std::string rank_device(const TrainingBasics& basics) {
  const auto env = DistributedEnvironment::from_environment();
  if (env && basics.device == "cuda") return "cuda:" + std::to_string(env->local_rank);
  return basics.device;
}

TrainingRun::TrainingRun(TrainableModel model, LossFunction loss, TrainingRunOptions options)
    : options_(std::move(options)),
      folder_(options_.dir),
      trainer_(std::move(model), std::move(loss), options_.trainer) {
  if (options_.dir.empty()) throw std::invalid_argument("a training run needs a folder");
  const auto last = path(RunFolder::kLastCheckpoint);
  if (options_.resume) {
    folder_.require_checkpoint_to_resume();
    // Every write does this too; a resume with no epoch left writes nothing.
    remove_abandoned_writes(options_.dir);
    trainer_.load_checkpoint(last);
    load_metrics();
  } else {
    if (fs::exists(last)) {
      throw std::runtime_error(last + " exists: resume that run, or choose another run folder");
    }
  }
  if (const auto& group = options_.trainer.group) {
    // The device differs by rank (cuda:LOCAL_RANK); all else must not.
    auto same = config();
    same["training"].erase("device");
    group->require_same("the run's configuration (config.json)", same.dump(1));
  }
  if (!options_.resume && writes()) {
    fs::create_directories(options_.dir);
    folder_.write_config(config());
  }
  trainer_.add_observer(this);
}

bool writes_run_folder(const TrainingRunOptions& options) {
  return !options.trainer.group || options.trainer.group->rank() == 0;
}

bool TrainingRun::writes() const { return writes_run_folder(options_); }

nlohmann::json TrainingRun::config() const {
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
                        {"device", t.device.str()},
                        {"accumulation_steps", t.accumulation_steps},
                        {"processes", t.group ? t.group->size() : 1},
                        {"examples_per_step", trainer_.examples_per_step()}};
  return config;
}

void TrainingRun::load_metrics() {
  // Keep the rows of the epochs last.pt contains: a run killed after writing an
  // epoch's row but before its last.pt (see on_epoch) does that epoch again.
  metrics_ = folder_.read_metrics();
  metrics_.keep_epochs_up_to(trainer_.completed_epochs());
  if (!options_.best_metric.empty()) best_ = std::max(best_, metrics_.best(options_.best_metric));
}

bool TrainingRun::fit(const Dataset& train) {
  try {
    return trainer_.fit(train);
  } catch (const CollectiveFailure&) {
    throw;  // the cause is another rank's
  } catch (const std::exception& e) {
    // The other ranks' errors name this cause instead of a lost connection.
    if (const auto& group = options_.trainer.group) group->report_failure(e.what());
    throw;
  }
}

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
  if (!writes()) {
    for (auto* o : observers_) o->on_epoch(epoch);
    return;
  }
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
