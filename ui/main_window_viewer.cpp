// The viewer half of the main window: open, view, label.
#include "ui/main_window.h"
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

}  // namespace revup::ui
