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
#include <QVBoxLayout>

#include <cmath>

#include "core/memory_tracker.h"
#include "io/channel_stats.h"
#include "io/format_registry.h"
#include "ui/models/image_document.h"
#include "ui/models/project.h"
#include "ui/widgets/error_reporter.h"
#include "ui/widgets/export_dialog.h"
#include "ui/widgets/image_view.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/orthogonal_planes.h"
#include "ui/widgets/training_parts.h"
#include "ui/widgets/viewer_parts.h"
#include "ui/widgets/volume_controls.h"

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
  t.controller = new TrainingController(this);

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
  tabifyDockWidget(metricsDock, viewer_->planesDock);
  memoryDock->raise();

  QMenu* menu = menuBar()->addMenu(tr("&Training"));
  menu->addAction(tr("Start"), QKeySequence("F5"), this, [this] { startTraining(); });
  menu->addAction(tr("Pause"), this, [this] { pauseTraining(); });
  menu->addAction(tr("Resume"), this, [this] { resumeTraining(); });
  menu->addAction(tr("Stop"), QKeySequence("Shift+F5"), this, [this] { stopTraining(); });
  // A stopped or finished run (this project's, or one revup-cli trained)
  // trained on: its own model and normalization, up to the panel's epochs.
  menu->addAction(tr("Continue a run…"), this,
                  [this] {
                    const auto& runs = training_->controller->runs();
                    const QString dir = QFileDialog::getExistingDirectory(
                        this, tr("Continue a run"), runs.isEmpty() ? QString() : runs.last());
                    if (!dir.isEmpty()) continueRun(dir);
                  })
      ->setObjectName("continueRunAction");
  menu->addSeparator();
  menu->addAction(tr("Export model…"), this, [this] { showExportDialog(); })
      ->setObjectName("exportModelAction");
  menu->addAction(tr("Export prediction…"), this,
                  [this] {
                    const auto* controller = training_->controller;
                    if (!controller->hasPrediction()) {
                      reportError(this, tr("No prediction yet"),
                                  tr("Train at least one epoch first."));
                      return;
                    }
                    const QString path = QFileDialog::getSaveFileName(
                        this, tr("Export prediction"), controller->suggestedPredictionPath());
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

  TrainingSession* session = t.controller->session();
  connect(session, &TrainingSession::baselineMeasured, this,
          [this](const QVector<MemorySample>& samples, double peak) {
            training_->memory->model().setBaseline(samples, peak);
            training_->memory->refresh();
          });
  connect(session, &TrainingSession::stepFinished, this,
          [this](const StepSummary& step, const QVector<MemorySample>& samples) {
            auto& tp = *training_;
            tp.memory->model().setLatestStep(samples, step.peakMegabytes);
            // A redraw per step is cheap, but tiny images step many times a second.
            if (!tp.sinceMemoryRedraw.isValid() || tp.sinceMemoryRedraw.elapsed() > 150) {
              tp.memory->refresh();
              tp.sinceMemoryRedraw.restart();
            }
          });
  connect(
      t.controller, &TrainingController::epochFinished, this,
      [this](const EpochSummary& e, int epochs) {
        auto& tp = *training_;
        tp.metrics->addEpoch(e.epoch, e.loss, e.metrics);
        const auto miou = e.metrics.find("miou");
        tp.panel->showProgress(e.epoch, epochs, tp.controller->secondsPerEpoch(),
                               tr("epoch %1: loss %2, mIoU on the labels %3")
                                   .arg(e.epoch)
                                   .arg(e.loss, 0, 'f', 4)
                                   .arg(miou == e.metrics.end() ? NAN : miou->second, 0, 'f', 3));
        Q_EMIT trainingEpochFinished(e.epoch);
        tp.classIou->setRowCount(0);
        for (const auto& c : tp.controller->current().classes.classes) {
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
  connect(t.controller, &TrainingController::snapshotReady, this,
          [this](const SnapshotPtr& snapshot) {
            auto& tp = *training_;
            if (snapshot->prediction.defined()) showPrediction(snapshot->prediction);
            // A volume trained whole: its prediction in every plane.
            if (snapshot->prediction.defined() && snapshot->prediction.dim() == 3 && document() &&
                document()->path().toStdString() == tp.controller->current().image.path) {
              viewer_->planes->setPrediction(snapshot->prediction);
            }
            predictShownSlice();
            // The reconstruction panel follows the model, at most every few seconds.
            if (!tp.sinceReconstruction.isValid() || tp.sinceReconstruction.elapsed() > 5000 ||
                !tp.reconstruction->hasModel()) {
              Image view = tp.controller->current().image;
              // A 2D model of a volume: its middle slice; a 3D model: the volume (cropped there).
              if (view.is_volume() && snapshot->net->config().backbone.dims == 2) {
                view.pixels = view.pixels.select(1, view.pixels.size(1) / 2);
              }
              tp.reconstruction->setModel(snapshot->net, normalize(view, snapshot->stats));
              tp.sinceReconstruction.restart();
            }
          });
  connect(t.controller, &TrainingController::slicePredicted, this,
          [this](int axis, qint64 slice, const torch::Tensor& ids) {
            ImageDocument* doc = document();
            if (doc && doc->sliceAxis() == axis && doc->sliceIndex() == slice) {
              viewer_->view->setPrediction(ids);
            }
          });
  connect(session, &TrainingSession::pausedChanged, t.panel, &TrainingPanel::setPaused);
  connect(t.controller, &TrainingController::failed, this,
          [this](const QString& message) { reportError(this, tr("Training failed"), message); });
  connect(t.controller, &TrainingController::finished, this,
          [this](bool completed, const QString& run) {
            auto& tp = *training_;
            tp.memory->refresh();
            tp.panel->setRunning(false);
            tp.panel->showStatus(
                completed ? tr("Done: %1").arg(run)
                          : tr("Stopped; %1/last.pt keeps the last completed epoch").arg(run));
            logLine("info", (completed ? "training finished: " : "training stopped: ") + run);
            Q_EMIT trainingFinished(completed);
          });
  connect(t.controller, &TrainingController::predictionExported, this,
          [this](bool ok, const QString& message) {
            if (ok) {
              logLine("info", "prediction written to " + message);
              statusBar()->showMessage(tr("Prediction written to %1").arg(message), 5000);
            } else if (message != tr("cancelled")) {
              reportError(this, tr("Cannot export the prediction"), message);
            }
            Q_EMIT predictionExported(ok, message);
          });
}

void MainWindow::predictShownSlice() {
  ImageDocument* doc = document();
  const auto* controller = training_->controller;
  if (!doc || !doc->isVolume() || !controller->latest()) return;
  // Trained on another image: its model does not predict this one.
  if (doc->path().toStdString() != controller->current().image.path) return;
  if (training_->controller->predictSlice(doc->sliceAxis(), doc->sliceIndex())) {
    // Until the newest request's answer arrives.
    viewer_->view->clearPrediction();
  }
}

bool MainWindow::startTraining() { return beginTraining(QString()); }

bool MainWindow::continueRun(const QString& runDir) { return beginTraining(runDir); }

bool MainWindow::beginTraining(const QString& resumeDir) {
  auto& t = *training_;
  if (t.controller->isRunning()) return false;
  TrainingJobInput input;
  QString problem;
  if (!collectTrainingData(input, problem)) {
    reportError(this, tr("Cannot train yet"), problem);
    return false;
  }
  input.settings = t.panel->settings();
  rememberTrainingSettings(input.settings);
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
  const QString beside =
      projectPath_.isEmpty() ? QString::fromStdString(input.image.path) : projectPath_;
  const bool started = resumeDir.isEmpty() ? t.controller->start(std::move(input), beside)
                                           : t.controller->resumeRun(std::move(input), resumeDir);
  if (!started) return false;
  const QString run = QString::fromStdString(t.controller->current().runDir);
  t.metrics->startRun(QFileInfo(run).fileName());
  t.panel->setRunning(true);
  t.panel->showStatus(
      (resumeDir.isEmpty()
           ? tr("Measuring ResNet+Fixup's step for comparison, then training into %1")
           : tr("Measuring ResNet+Fixup's step for comparison, then continuing %1"))
          .arg(run));
  logLine("info", (resumeDir.isEmpty() ? "training into " : "continuing ") + run);
  return true;
}

void MainWindow::pauseTraining() { training_->controller->pause(); }
void MainWindow::resumeTraining() { training_->controller->resume(); }
void MainWindow::stopTraining() { training_->controller->stop(); }

QStringList MainWindow::runs() const { return training_->controller->runs(); }

bool MainWindow::isTraining() const { return training_ && training_->controller->isRunning(); }

ExportDialog* MainWindow::showExportDialog() {
  const auto& image = training_->controller->current().image;
  QSize size;
  if (image.pixels.defined()) {
    size = QSize(static_cast<int>(image.width()), static_cast<int>(image.height()));
  }
  auto* dialog = new ExportDialog(training_->controller->runs(), size, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ExportDialog::exportFinished, this, [this](const ExportOutcome& outcome) {
    if (!outcome.ok) reportError(this, tr("Export failed"), outcome.message);
  });
  dialog->open();
  return dialog;
}

bool MainWindow::exportPrediction(const QString& path) {
  try {
    BackgroundTask* task = training_->controller->exportPrediction(path);
    if (!task) return true;  // a 2D image's, written already
    auto* progress =
        new QProgressDialog(tr("Predicting every slice of the volume…"), tr("Cancel"), 0, 1, this);
    progress->setObjectName("predictionProgress");
    progress->setAttribute(Qt::WA_DeleteOnClose);
    progress->setMinimumDuration(0);
    QPointer<BackgroundTask> guard(task);
    connect(progress, &QProgressDialog::canceled, task, [guard] {
      if (guard) guard->cancel();
    });
    connect(task, &BackgroundTask::progressChanged, progress, [progress](int done, int total) {
      progress->setMaximum(total);
      progress->setValue(done);
    });
    connect(task, &BackgroundTask::finished, progress, &QProgressDialog::close);
    progress->open();
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
  training_->controller->setRuns(project.runs);
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
  project.runs = training_->controller->runs();
}

}  // namespace revup::ui
