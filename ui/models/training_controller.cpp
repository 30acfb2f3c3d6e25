#include "ui/models/training_controller.h"

#include <QFileInfo>

#include "io/format_registry.h"
#include "ui/models/log.h"
#include "ui/models/project.h"
#include "ui/models/volume_prediction.h"

namespace revup::ui {

TrainingController::TrainingController(QObject* parent)
    : QObject(parent), session_(new TrainingSession(this)) {
  qRegisterMetaType<torch::Tensor>();
  connect(session_, &TrainingSession::epochFinished, this, [this](const EpochSummary& e) {
    ++epochsThisSession_;
    secondsPerEpoch_ += (e.seconds - secondsPerEpoch_) / epochsThisSession_;
    Q_EMIT epochFinished(e, current_.settings.epochs);
  });
  connect(session_, &TrainingSession::snapshotReady, this, [this](const SnapshotPtr& snapshot) {
    latest_ = snapshot;
    if (current_.image.is_volume()) slicePredictor_ = evalCopy(snapshot->net);
    Q_EMIT snapshotReady(snapshot);
  });
  connect(session_, &TrainingSession::failed, this, &TrainingController::failed);
  connect(session_, &TrainingSession::finished, this, [this](bool completed) {
    session_->wait();
    Q_EMIT finished(completed, QString::fromStdString(current_.runDir));
  });
}

bool TrainingController::start(TrainingJobInput input, const QString& beside) {
  if (session_->isRunning()) return false;
  input.runDir = nextRunFolder(beside).toStdString();
  input.resume = false;
  runs_ << QString::fromStdString(input.runDir);
  launch(std::move(input));
  return true;
}

bool TrainingController::resumeRun(TrainingJobInput input, const QString& runDir) {
  if (session_->isRunning()) return false;
  input.runDir = runDir.toStdString();
  input.resume = true;
  if (!runs_.contains(runDir)) runs_ << runDir;
  launch(std::move(input));
  return true;
}

void TrainingController::launch(TrainingJobInput input) {
  current_ = input;
  latest_.reset();
  slicePredictor_ = nullptr;
  slicePrediction_.cancel();
  predictedFrom_ = nullptr;
  epochsThisSession_ = 0;
  secondsPerEpoch_ = 0.0;
  session_->start(std::move(input));
  Q_EMIT started(QString::fromStdString(current_.runDir));
}

void TrainingController::stop() {
  session_->stop();
  session_->wait();
}

bool TrainingController::predictSlice(int axis, int64_t slice) {
  if (!current_.image.is_volume() || !slicePredictor_ || !latest_) return false;
  if (axis == predictedAxis_ && slice == predictedSlice_ && predictedFrom_ == latest_.get()) {
    return false;  // the same plane and model: only the grey levels changed
  }
  predictedAxis_ = axis;
  predictedSlice_ = slice;
  predictedFrom_ = latest_.get();
  if (latest_->prediction.defined()) {
    // Trained whole in 3D: the epoch's prediction holds every plane already,
    // answered now (false: no request is left pending to wait for).
    Q_EMIT slicePredicted(axis, slice, latest_->prediction.select(axis, slice).contiguous());
    return false;
  }
  auto net = slicePredictor_;
  auto stats = latest_->stats;
  const Image volume = current_.image;
  slicePrediction_.start<torch::Tensor>(
      this,
      [net, stats, volume, axis, slice](TaskContext&) mutable {
        return ui::predictSlice(net, volume, stats, axis, slice);
      },
      [this, axis, slice](torch::Tensor ids) { Q_EMIT slicePredicted(axis, slice, ids); },
      [](const QString& message) { logLine("error", "slice prediction: " + message); });
  return true;
}

bool TrainingController::hasPrediction() const {
  return latest_ && (latest_->prediction.defined() || current_.image.is_volume());
}

QString TrainingController::suggestedPredictionPath() const {
  const QString image = QString::fromStdString(current_.image.path);
  const QFileInfo info(image);
  return info.absolutePath() + "/" + info.completeBaseName() + ".prediction" +
         (current_.image.is_volume() ? ".nii.gz" : (current_.image.geo ? ".tif" : ".png"));
}

BackgroundTask* TrainingController::exportPrediction(const QString& path) {
  if (!latest_ || (!latest_->prediction.defined() && !current_.image.is_volume())) {
    throw std::runtime_error("no prediction yet: train at least one epoch");
  }
  if (!current_.image.is_volume()) {
    write_mask(latest_->prediction, current_.classes, current_.image, path.toStdString());
    Q_EMIT predictionExported(true, path);
    return nullptr;
  }
  VolumePredictionJob job;
  job.net = evalCopy(latest_->net);
  job.stats = latest_->stats;
  job.volume = current_.image;
  job.axis = current_.sliceAxis;
  job.classes = current_.classes;
  job.path = path.toStdString();
  auto* task = BackgroundTask::start<bool>(
      this, [job](TaskContext& context) { return writeVolumePrediction(job, context); },
      [this, path](bool written) {
        if (written) Q_EMIT predictionExported(true, path);
      },
      [this](const QString& message) { Q_EMIT predictionExported(false, message); });
  connect(task, &BackgroundTask::finished, this, [this, task] {
    if (task->isCanceled()) Q_EMIT predictionExported(false, tr("cancelled"));
  });
  return task;
}

}  // namespace revup::ui
