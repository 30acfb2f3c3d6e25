// The viewer half of the main window: open, view, label.
#include "ui/main_window.h"
#include "ui/project.h"
#include "ui/training_job.h"
#include "ui/viewer_parts.h"

namespace revup::ui {

void MainWindow::createViewerParts() {
  viewer_ = std::make_unique<ViewerParts>();
  viewer_->placeholder = new QLabel(tr("Open an image (File > Open)"), this);
  viewer_->placeholder->setAlignment(Qt::AlignCenter);
  setCentralWidget(viewer_->placeholder);
}

bool MainWindow::openImage(const QString&) { return false; }

ImageDocument* MainWindow::document() const { return nullptr; }

bool MainWindow::collectTrainingData(TrainingJobInput&, QString& problem) {
  problem = tr("Open an image and label some pixels first.");
  return false;
}

void MainWindow::showPrediction(const torch::Tensor&) {}

bool MainWindow::applyViewerProject(const Project&) { return true; }

void MainWindow::fillViewerProject(Project&) {}

}  // namespace revup::ui
