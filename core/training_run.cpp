#include "core/training_run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"

namespace revup {
namespace fs = std::filesystem;

namespace {
const char* schedule_name(LrSchedule s) {
  switch (s) {
    case LrSchedule::kConstant:
      return "constant";
    case LrSchedule::kStep:
      return "step";
    case LrSchedule::kCosine:
      return "cosine";
  }
  return "?";
}

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  std::ostringstream out;
  out.precision(8);
  out << v;
  return out.str();
}
}  // namespace

TrainingRun::TrainingRun(TrainableModel model, LossFunction loss, TrainingRunOptions options)
    : options_(std::move(options)), trainer_(std::move(model), std::move(loss), options_.trainer) {
  if (options_.dir.empty()) throw std::invalid_argument("a training run needs a folder");
  const auto last = path("last.pt");
  if (options_.resume) {
    if (!fs::exists(last)) throw std::runtime_error(last + ": nothing to resume");
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

std::string TrainingRun::path(const std::string& name) const {
  return (fs::path(options_.dir) / name).string();
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
  write_text_atomically(path("config.json"), config.dump(2) + "\n");
}

void TrainingRun::load_metrics() {
  // Keep the rows of the epochs last.pt contains; a stopped run may have
  // written none past them, but a crash between the two writes could have.
  std::ifstream in(path("metrics.csv"));
  std::string line;
  if (!std::getline(in, line)) return;
  csv_ = line + "\n";
  std::stringstream header(line);
  for (std::string c; std::getline(header, c, ',');) columns_.push_back(c);
  const auto best_col = std::find(columns_.begin(), columns_.end(), options_.best_metric);
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::vector<std::string> cells;
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    if (cells.empty() || std::stoi(cells[0]) > trainer_.completed_epochs()) break;
    csv_ += line + "\n";
    const auto k = static_cast<size_t>(best_col - columns_.begin());
    if (best_col != columns_.end() && k < cells.size() && !cells[k].empty()) {
      best_ = std::max(best_, std::stod(cells[k]));
    }
  }
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
  if (columns_.empty()) {
    columns_ = {"epoch", "train_loss"};
    for (const auto& [name, value] : epoch.metrics) columns_.push_back(name);
    columns_.insert(columns_.end(), {"seconds", "peak_bytes"});
    for (size_t i = 0; i < columns_.size(); ++i) csv_ += (i ? "," : "") + columns_[i];
    csv_ += "\n";
  }
  std::map<std::string, double> row = epoch.metrics;
  row["epoch"] = epoch.epoch;
  row["train_loss"] = epoch.train_loss;
  row["seconds"] = epoch.seconds;
  row["peak_bytes"] = static_cast<double>(epoch.peak_bytes);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const auto it = row.find(columns_[i]);
    csv_ += (i ? "," : "") + (it == row.end() ? std::string() : format_number(it->second));
  }
  csv_ += "\n";
  // Checkpoint first: metrics.csv never lists an epoch that last.pt lacks.
  trainer_.save_checkpoint(path("last.pt"));
  write_text_atomically(path("metrics.csv"), csv_);
  const auto score = epoch.metrics.find(options_.best_metric);
  if (!options_.best_metric.empty() && score != epoch.metrics.end() && !std::isnan(score->second) &&
      score->second > best_) {
    best_ = score->second;
    trainer_.save_checkpoint(path("best.pt"));
  }
  if (!last_step_events_.empty()) {
    write_text_atomically(
        path("memory_timeline.json"),
        nlohmann::json{{"epoch", epoch.epoch},
                       {"baseline_bytes", last_step_baseline_},
                       {"events", timeline_json(last_step_events_, last_step_baseline_)}}
                .dump(1) +
            "\n");
  }
  for (auto* o : observers_) o->on_epoch(epoch);
}

}  // namespace revup
