// The training half of the main window: train, memory, reconstructions,
// predictions.
#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenuBar>
#include <QPointer>
#include <QProgressDialog>
#include <QStatusBar>
#include <QTableWidget>
#include <QThreadPool>
#include <QVBoxLayout>

#include <cmath>

#include "core/memory_tracker.h"
#include "io/channel_stats.h"
#include "io/format_registry.h"
#include "ui/error_reporter.h"
#include "ui/export_dialog.h"
#include "ui/image_document.h"
#include "ui/image_view.h"
#include "ui/main_window.h"
#include "ui/project.h"
#include "ui/training_parts.h"
#include "ui/viewer_parts.h"
#include "ui/volume_controls.h"
#include "ui/volume_prediction.h"

namespace revup::ui {
namespace {

QDockWidget* dock(QMainWindow* window, const QString& title, const QString& name, QWidget* content,
                  Qt::DockWidgetArea area) {
  auto* d = new QDockWidget(title, window);
  d->setObjectName(name);
  d->setWidget(content);
  window->addDockWidget(area, d);
  return d;
}

}  // namespace

void MainWindow::createTrainingParts() {
  training_ = std::make_unique<TrainingParts>();
  auto& t = *training_;
  t.panel = new TrainingPanel(this);
  t.memory = new MemoryChartView(this);
  t.reconstruction = new ReconstructionView(this);
  t.metrics = new MetricsChart(this);
  t.classIou = new QTableWidget(0, 2, this);
  t.classIou->setObjectName("classIouTable");
  t.classIou->setHorizontalHeaderLabels({tr("class"), tr("IoU")});
  t.classIou->horizontalHeader()->setStretchLastSection(true);
  t.classIou->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t.session = new TrainingSession(this);

  t.classIou->setMinimumHeight(5 * t.classIou->fontMetrics().height());
  auto* metricsPane = new QWidget(this);
  auto* metricsLayout = new QVBoxLayout(metricsPane);
  metricsLayout->addWidget(t.metrics, 3);
  metricsLayout->addWidget(t.classIou, 1);

  dock(this, tr("Training"), "trainingDock", t.panel, Qt::LeftDockWidgetArea);
  // The charts want height more than width: they share the right side as
  // tabs from the tool bar to the status bar. A bottom dock for loss and mIoU
  // left each chart a third of the height, too little for its axes at 800 px.
  auto* memoryDock = dock(this, tr("Memory"), "memoryDock", t.memory, Qt::RightDockWidgetArea);
  auto* reconDock = dock(this, tr("Reconstruction"), "reconstructionDock", t.reconstruction,
                         Qt::RightDockWidgetArea);
  auto* metricsDock =
      dock(this, tr("Loss and mIoU"), "metricsDock", metricsPane, Qt::RightDockWidgetArea);
  tabifyDockWidget(memoryDock, reconDock);
  tabifyDockWidget(reconDock, metricsDock);
  memoryDock->raise();

  QMenu* menu = menuBar()->addMenu(tr("&Training"));
  menu->addAction(tr("Start"), QKeySequence("F5"), this, [this] { startTraining(); });
  menu->addAction(tr("Pause"), this, [this] { pauseTraining(); });
  menu->addAction(tr("Resume"), this, [this] { resumeTraining(); });
  menu->addAction(tr("Stop"), QKeySequence("Shift+F5"), this, [this] { stopTraining(); });
  menu->addSeparator();
  menu->addAction(tr("Export model…"), this, [this] { showExportDialog(); })
      ->setObjectName("exportModelAction");
  menu->addAction(
          tr("Export prediction…"), this,
          [this] {
            const auto& tp = *training_;
            if (!tp.latest || (!tp.latest->prediction.defined() && !tp.current.image.is_volume())) {
              reportError(this, tr("No prediction yet"), tr("Train at least one epoch first."));
              return;
            }
            const QString image = QString::fromStdString(tp.current.image.path);
            const QString path = QFileDialog::getSaveFileName(
                this, tr("Export prediction"),
                QFileInfo(image).absolutePath() + "/" + QFileInfo(image).completeBaseName() +
                    ".prediction" +
                    (tp.current.image.is_volume() ? ".nii.gz"
                                                  : (tp.current.image.geo ? ".tif" : ".png")));
            if (!path.isEmpty()) exportPrediction(path);
          })
      ->setObjectName("exportPredictionAction");

  // Another slice shown: its prediction follows.
  connect(viewer_->volumeControls, &VolumeControls::planeChanged, this,
          [this] { predictShownSlice(); });
  connect(t.panel, &TrainingPanel::startRequested, this, [this] { startTraining(); });
  connect(t.panel, &TrainingPanel::pauseRequested, this, [this] { pauseTraining(); });
  connect(t.panel, &TrainingPanel::resumeRequested, this, [this] { resumeTraining(); });
  connect(t.panel, &TrainingPanel::stopRequested, this, [this] { stopTraining(); });

  connect(t.session, &TrainingSession::baselineMeasured, this,
          [this](const QVector<MemorySample>& samples, double peak) {
            training_->memory->model().setBaseline(samples, peak);
            training_->memory->refresh();
          });
  connect(t.session, &TrainingSession::stepFinished, this,
          [this](const StepSummary& step, const QVector<MemorySample>& samples) {
            auto& tp = *training_;
            tp.memory->model().setLatestStep(samples, step.peakMegabytes);
            // A redraw per step is cheap, but tiny images step many times a second.
            if (!tp.sinceMemoryRedraw.isValid() || tp.sinceMemoryRedraw.elapsed() > 150) {
              tp.memory->refresh();
              tp.sinceMemoryRedraw.restart();
            }
          });
  connect(t.session, &TrainingSession::epochFinished, this, [this](const EpochSummary& e) {
    auto& tp = *training_;
    tp.metrics->addEpoch(e.epoch, e.loss, e.metrics);
    ++tp.epochsThisSession;
    tp.secondsPerEpoch += (e.seconds - tp.secondsPerEpoch) / tp.epochsThisSession;
    const auto miou = e.metrics.find("miou");
    tp.panel->showProgress(e.epoch, tp.current.settings.epochs, tp.secondsPerEpoch,
                           tr("epoch %1: loss %2, mIoU on the labels %3")
                               .arg(e.epoch)
                               .arg(e.loss, 0, 'f', 4)
                               .arg(miou == e.metrics.end() ? NAN : miou->second, 0, 'f', 3));
    Q_EMIT trainingEpochFinished(e.epoch);
    tp.classIou->setRowCount(0);
    for (const auto& c : tp.current.classes.classes) {
      const auto it = e.metrics.find("iou/" + c.name);
      const int row = tp.classIou->rowCount();
      tp.classIou->insertRow(row);
      tp.classIou->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(c.name)));
      tp.classIou->setItem(row, 1,
                           new QTableWidgetItem(it == e.metrics.end() || std::isnan(it->second)
                                                    ? tr("—")
                                                    : QString::number(it->second, 'f', 3)));
    }
  });
  connect(t.session, &TrainingSession::snapshotReady, this, [this](const SnapshotPtr& snapshot) {
    auto& tp = *training_;
    tp.latest = snapshot;
    if (snapshot->prediction.defined()) showPrediction(snapshot->prediction);
    if (tp.current.image.is_volume()) {
      tp.slicePredictor = evalCopy(snapshot->net);
      predictShownSlice();
    }
    // The reconstruction panel follows the model, at most every few seconds.
    if (!tp.sinceReconstruction.isValid() || tp.sinceReconstruction.elapsed() > 5000 ||
        !tp.reconstruction->hasModel()) {
      Image view = tp.current.image;
      if (view.is_volume()) view.pixels = view.pixels.select(1, view.pixels.size(1) / 2);
      tp.reconstruction->setModel(snapshot->net, normalize(view, snapshot->stats));
      tp.sinceReconstruction.restart();
    }
  });
  connect(t.session, &TrainingSession::pausedChanged, t.panel, &TrainingPanel::setPaused);
  connect(t.session, &TrainingSession::failed, this,
          [this](const QString& message) { reportError(this, tr("Training failed"), message); });
  connect(t.session, &TrainingSession::finished, this, [this](bool completed) {
    auto& tp = *training_;
    tp.session->wait();
    tp.memory->refresh();
    tp.panel->setRunning(false);
    const QString run = QString::fromStdString(tp.current.runDir);
    tp.panel->showStatus(completed
                             ? tr("Done: %1").arg(run)
                             : tr("Stopped; %1/last.pt keeps the last completed epoch").arg(run));
    logLine("info", (completed ? "training finished: " : "training stopped: ") + run);
    Q_EMIT trainingFinished(completed);
  });
}

void MainWindow::predictShownSlice() {
  auto& tp = *training_;
  ImageDocument* doc = document();
  if (!doc || !doc->isVolume() || !tp.slicePredictor || !tp.latest) return;
  if (doc->path().toStdString() != tp.current.image.path) return;  // trained on another image
  const int axis = doc->sliceAxis(), slice = doc->sliceIndex();
  if (axis == tp.predictedAxis && slice == tp.predictedSlice && tp.predictedFrom == tp.latest.get())
    return;  // the same plane and model: only the grey levels changed
  tp.predictedAxis = axis;
  tp.predictedSlice = slice;
  tp.predictedFrom = tp.latest.get();
  const int generation = ++*tp.slicePrediction;
  const Image volume = doc->image();
  viewer_->view->clearPrediction();
  QPointer<MainWindow> self(this);
  auto net = tp.slicePredictor;
  auto stats = tp.latest->stats;
  auto current = tp.slicePrediction;
  QThreadPool::globalInstance()->start(
      [self, net, stats, volume, axis, slice, generation, current]() mutable {
        if (*current != generation) return;
        try {
          const auto ids = predictSlice(net, volume, stats, axis, slice);
          QMetaObject::invokeMethod(qApp, [self, ids, axis, slice, generation, current] {
            if (!self || *current != generation) return;
            ImageDocument* doc = self->document();
            if (doc && doc->sliceAxis() == axis && doc->sliceIndex() == slice) {
              self->viewer_->view->setPrediction(ids);
            }
          });
        } catch (const std::exception& e) {
          logLine("error", QString("slice prediction: ") + e.what());
        }
      });
}

bool MainWindow::startTraining() {
  auto& t = *training_;
  if (t.session->isRunning()) return false;
  TrainingJobInput input;
  QString problem;
  if (!collectTrainingData(input, problem)) {
    reportError(this, tr("Cannot train yet"), problem);
    return false;
  }
  input.settings = t.panel->settings();
  rememberTrainingSettings(input.settings);
  const QString beside =
      projectPath_.isEmpty() ? QString::fromStdString(input.image.path) : projectPath_;
  input.runDir = nextRunFolder(beside).toStdString();
  t.runs << QString::fromStdString(input.runDir);
  t.current = input;
  t.latest.reset();
  t.epochsThisSession = 0;
  t.secondsPerEpoch = 0.0;
  t.memory->model().clear();
  // The device's memory as a line: physical memory, or the GPU's own. A
  // device that is not there has none; the job itself reports why it cannot
  // start.
  try {
    const auto total = MemoryTracker::total_bytes(c10::Device(input.settings.device));
    t.memory->model().setDeviceTotalMegabytes(to_mib(static_cast<double>(total)));
  } catch (const std::exception&) {
    t.memory->model().setDeviceTotalMegabytes(0.0);
  }
  t.metrics->startRun(QFileInfo(QString::fromStdString(input.runDir)).fileName());
  t.panel->setRunning(true);
  t.panel->showStatus(tr("Measuring ResNet+Fixup's step for comparison, then training into %1")
                          .arg(QString::fromStdString(input.runDir)));
  logLine("info", "training into " + QString::fromStdString(input.runDir));
  t.session->start(std::move(input));
  return true;
}

void MainWindow::pauseTraining() { training_->session->pause(); }
void MainWindow::resumeTraining() { training_->session->resume(); }

void MainWindow::stopTraining() {
  training_->session->stop();
  training_->session->wait();
}

QStringList MainWindow::runs() const { return training_->runs; }

bool MainWindow::isTraining() const { return training_ && training_->session->isRunning(); }

ExportDialog* MainWindow::showExportDialog() {
  const auto& tp = *training_;
  QSize size;
  if (tp.current.image.pixels.defined()) {
    size = QSize(static_cast<int>(tp.current.image.width()),
                 static_cast<int>(tp.current.image.height()));
  }
  auto* dialog = new ExportDialog(tp.runs, size, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ExportDialog::exportFinished, this, [this](const ExportOutcome& outcome) {
    if (!outcome.ok) reportError(this, tr("Export failed"), outcome.message);
  });
  dialog->open();
  return dialog;
}

bool MainWindow::exportVolumePrediction(const QString& path) {
  const auto& tp = *training_;
  VolumePredictionExport::Job job;
  job.net = evalCopy(tp.latest->net);
  job.stats = tp.latest->stats;
  job.volume = tp.current.image;
  job.axis = tp.current.sliceAxis;
  job.classes = tp.current.classes;
  job.path = path;
  auto* progress =
      new QProgressDialog(tr("Predicting every slice of the volume…"), tr("Cancel"), 0, 1, this);
  progress->setObjectName("predictionProgress");
  progress->setAttribute(Qt::WA_DeleteOnClose);
  progress->setMinimumDuration(0);
  auto* exporter = VolumePredictionExport::start(std::move(job), this);
  connect(progress, &QProgressDialog::canceled, exporter, &VolumePredictionExport::cancel);
  connect(exporter, &VolumePredictionExport::progress, progress, [progress](int done, int total) {
    progress->setMaximum(total);
    progress->setValue(done);
  });
  connect(exporter, &VolumePredictionExport::finished, this,
          [this, progress = QPointer<QProgressDialog>(progress)](bool ok, const QString& message) {
            if (progress) progress->close();
            if (ok) {
              logLine("info", "prediction written to " + message);
              statusBar()->showMessage(tr("Prediction written to %1").arg(message), 5000);
            } else if (message != tr("cancelled")) {
              reportError(this, tr("Cannot export the prediction"), message);
            }
            Q_EMIT predictionExported(ok, message);
          });
  progress->open();
  return true;
}

bool MainWindow::exportPrediction(const QString& path) {
  const auto& tp = *training_;
  try {
    if (tp.latest && tp.current.image.is_volume()) return exportVolumePrediction(path);
    if (!tp.latest || !tp.latest->prediction.defined()) {
      throw std::runtime_error("no prediction yet: train at least one epoch");
    }
    write_mask(tp.latest->prediction, tp.current.classes, tp.current.image, path.toStdString());
    logLine("info", "prediction written to " + path);
    Q_EMIT predictionExported(true, path);
    return true;
  } catch (const std::exception& e) {
    reportError(this, tr("Cannot export the prediction"), QString::fromStdString(e.what()));
    return false;
  }
}

bool MainWindow::raisePanel(const QString& name) {
  auto* d = findChild<QDockWidget*>(name + "Dock");
  if (!d) return false;
  d->show();
  d->raise();
  return true;
}

void MainWindow::applyTrainingProject(const Project& project) {
  training_->panel->setSettings(project.settings);
  training_->runs = project.runs;
  // Curves of every run the project lists, like TensorBoard's run selector;
  // a run folder that is gone is left out.
  QVector<RunCurves> runs;
  for (const auto& run : project.runs) {
    if (QFileInfo(run).isDir()) {
      runs.push_back(readRunCurves(run));
    } else {
      logLine("warning", "project run not found: " + run);
    }
  }
  training_->metrics->startRun(QString());
  training_->metrics->setEarlierRuns(runs);
}

void MainWindow::fillTrainingProject(Project& project) const {
  project.settings = training_->panel->settings();
  project.runs = training_->runs;
}

}  // namespace revup::ui
