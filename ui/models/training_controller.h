#pragma once
// The main window's training state without a widget: the session, what it
// trains on, the runs of this project, the latest model and what is asked of
// it (a volume's shown slice, the prediction to export). The window only
// turns its signals into pictures and its slots into buttons; tests drive it
// without a window.
#include <QObject>
#include <QString>
#include <QStringList>

#include <torch/torch.h>

#include "ui/models/background_task.h"
#include "ui/models/training_session.h"

namespace revup::ui {

class TrainingController : public QObject {
  Q_OBJECT

 public:
  explicit TrainingController(QObject* parent = nullptr);

  TrainingSession* session() const { return session_; }
  bool isRunning() const { return session_->isRunning(); }

  // Starts a new run in the next run folder beside `beside` (the project
  // file, else the image): `input` without its runDir. False while a run is
  // going.
  bool start(TrainingJobInput input, const QString& beside);
  // Continues the run in `runDir` (written by the GUI or revup-cli train)
  // after its last.pt, to input.settings.epochs in all, on `input`'s image
  // and labels: the run's own model and normalization. False while a run is
  // going; a run that cannot continue arrives as failed().
  bool resumeRun(TrainingJobInput input, const QString& runDir);
  void pause() { session_->pause(); }
  void resume() { session_->resume(); }
  // After the current step; returns when the worker has ended.
  void stop();

  // This project's run folders, oldest first (the project file keeps them).
  const QStringList& runs() const { return runs_; }
  void setRuns(const QStringList& runs) { runs_ = runs; }

  // What the running (or last) run trains on, and its model after the latest epoch.
  const TrainingJobInput& current() const { return current_; }
  const SnapshotPtr& latest() const { return latest_; }
  // The running mean of an epoch's seconds this session (for the ETA).
  double secondsPerEpoch() const { return secondsPerEpoch_; }

  // Volumes: the latest model's class ids of one plane of the volume it
  // trains on, on the pool; the newest request wins (slicePredicted). True
  // when a prediction was started; false when there is nothing to predict
  // with, the plane and model are those of the last request (only the grey
  // levels changed: what is shown stays), or a model trained whole in 3D
  // answered at once from its epoch's prediction (slicePredicted emitted).
  bool predictSlice(int axis, int64_t slice);

  // The latest prediction as a mask in the image's format and geometry:
  // a 2D image's at once (nullptr back, throws naming the problem); a
  // volume's slice by slice in a task (progress, cancellable) whose end
  // predictionExported tells.
  BackgroundTask* exportPrediction(const QString& path);
  // Beside the image: IMAGE.prediction.png / .tif (georeferenced) / .nii.gz.
  QString suggestedPredictionPath() const;
  bool hasPrediction() const;

 Q_SIGNALS:
  void started(const QString& runDir);
  // An epoch ended: its summary and the run's epoch count.
  void epochFinished(const revup::ui::EpochSummary& epoch, int epochs);
  // A new model after an epoch (the window shows its prediction and rebuilds).
  void snapshotReady(const revup::ui::SnapshotPtr& snapshot);
  void slicePredicted(int axis, qint64 slice, const torch::Tensor& ids);
  void finished(bool completed, const QString& runDir);
  void failed(const QString& message);
  void predictionExported(bool ok, const QString& message);

 private:
  void launch(TrainingJobInput input);

  TrainingSession* session_;
  TrainingJobInput current_;
  SnapshotPtr latest_;
  QStringList runs_;
  double secondsPerEpoch_ = 0.0;
  int epochsThisSession_ = 0;
  // The latest model's own copy for slice predictions (the reconstruction
  // panel runs the snapshot's), and what the last request was for.
  SegmentationNet slicePredictor_{nullptr};
  LatestTask slicePrediction_;
  int predictedAxis_ = -1;
  int64_t predictedSlice_ = -1;
  const ModelSnapshot* predictedFrom_ = nullptr;
};

}  // namespace revup::ui

Q_DECLARE_METATYPE(torch::Tensor)
