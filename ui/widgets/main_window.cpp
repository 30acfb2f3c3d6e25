#include "ui/widgets/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>

#include "ui/models/project.h"
#include "ui/widgets/error_reporter.h"
#include "ui/widgets/training_parts.h"
#include "ui/widgets/viewer_parts.h"

namespace revup::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName("mainWindow");
  setWindowTitle("RevUp Studio");
  createViewerParts();
  createTrainingParts();
  createMenus();
  setDefaultLayout(QSize(1600, 1000));
}

void MainWindow::setDefaultLayout(const QSize& size) {
  resize(size);
  // Panels on the left a fifth of the width (their forms clamp it from
  // below), the charts on the right two fifths, the image the rest.
  const auto docks = [this](const QStringList& names) {
    QList<QDockWidget*> out;
    for (const auto& name : names) out << findChild<QDockWidget*>(name);
    return out;
  };
  const auto left = docks({"classDock", "trainingDock"});
  const auto right = docks({"memoryDock", "reconstructionDock", "metricsDock"});
  resizeDocks(left, QList<int>(left.size(), size.width() / 5), Qt::Horizontal);
  resizeDocks(right, QList<int>(right.size(), size.width() * 2 / 5), Qt::Horizontal);
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
  QMenu* project = menuBar()->addMenu(tr("&Project"));
  project->addAction(tr("Open project…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                      tr("RevUp projects (*.revup)"));
    if (!path.isEmpty()) openProject(path);
  });
  project->addAction(tr("Save project"), QKeySequence("Ctrl+Shift+S"), this, [this] {
    QString path = projectPath_;
    if (path.isEmpty()) {
      path = QFileDialog::getSaveFileName(this, tr("Save project"), QString(),
                                          tr("RevUp projects (*.revup)"));
    }
    if (!path.isEmpty()) saveProject(path);
  });
  project->addAction(tr("Save project as…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save project as"), projectPath_,
                                                      tr("RevUp projects (*.revup)"));
    if (!path.isEmpty()) saveProject(path);
  });
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("Log file"), this, [this] {
    QMessageBox::information(this, tr("Log file"),
                             tr("Errors are logged to %1").arg(logFilePath()));
  });
  help->addAction(tr("About Qt"), this, [] { QApplication::aboutQt(); });
}

bool MainWindow::openProject(const QString& path) {
  try {
    const auto project = Project::load(path);
    if (!applyViewerProject(project)) return false;
    applyTrainingProject(project);
    projectPath_ = path;
    setWindowTitle(tr("RevUp Studio — %1").arg(QFileInfo(path).fileName()));
    logLine("info", "opened project " + path);
    return true;
  } catch (const std::exception& e) {
    reportError(this, tr("Cannot open the project"), QString::fromStdString(e.what()));
    return false;
  }
}

bool MainWindow::saveProject(const QString& path) {
  try {
    Project project;
    fillViewerProject(project);
    fillTrainingProject(project);
    project.save(path);
    projectPath_ = path;
    setWindowTitle(tr("RevUp Studio — %1").arg(QFileInfo(path).fileName()));
    return true;
  } catch (const std::exception& e) {
    reportError(this, tr("Cannot save the project"), QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::restoreLayout() {
  layoutRemembered_ = true;
  const QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
}

void MainWindow::saveLayout() const {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!settleUnsavedLabels()) {
    event->ignore();
    return;
  }
  if (layoutRemembered_) saveLayout();
  // last.pt holds the last completed epoch; stopping loses at most the step
  // in flight, and waiting for it is a few seconds at most.
  if (isTraining()) stopTraining();
  event->accept();
}

}  // namespace revup::ui
