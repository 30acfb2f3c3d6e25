#include "ui/main_window.h"

#include <QApplication>
#include <QMenuBar>

#include "ui/training_parts.h"
#include "ui/viewer_parts.h"

namespace revup::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName("mainWindow");
  setWindowTitle("RevUp Studio");
  resize(1400, 900);
  createViewerParts();
  createTrainingParts();
  createMenus();
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("About RevUp Studio"), this, [this] { QApplication::aboutQt(); });
}

}  // namespace revup::ui
