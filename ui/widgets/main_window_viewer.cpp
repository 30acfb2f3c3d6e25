// The viewer half of the main window: open, view, label.
#include <QAction>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStatusBar>
#include <QTimer>

#include <functional>

#include "ui/models/project.h"
#include "ui/models/training_job.h"
#include "ui/widgets/class_palette.h"
#include "ui/widgets/dataset_browser.h"
#include "ui/widgets/error_reporter.h"
#include "ui/widgets/image_view.h"
#include "ui/widgets/label_tool_bar.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/orthogonal_planes.h"
#include "ui/widgets/viewer_parts.h"
#include "ui/widgets/volume_controls.h"

namespace revup::ui {

namespace {

// Files dropped anywhere on the window are opened (the first one).
class FileDropFilter : public QObject {
 public:
  FileDropFilter(QWidget* window, std::function<void(const QString&)> open)
      : QObject(window), open_(std::move(open)) {
    window->setAcceptDrops(true);
    window->installEventFilter(this);
  }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (event->type() == QEvent::DragEnter) {
      auto* e = static_cast<QDragEnterEvent*>(event);
      if (e->mimeData()->hasUrls()) e->acceptProposedAction();
      return true;
    }
    if (event->type() == QEvent::Drop) {
      auto* e = static_cast<QDropEvent*>(event);
      const auto urls = e->mimeData()->urls();
      if (!urls.isEmpty() && urls.first().isLocalFile()) {
        e->acceptProposedAction();
        open_(urls.first().toLocalFile());
      }
      return true;
    }
    return QObject::eventFilter(watched, event);
  }

 private:
  std::function<void(const QString&)> open_;
};

QString imageFilter() {
  return QObject::tr(
      "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.npy *.nii *.nii.gz *.mha *.mhd "
      "*.nrrd *.vrt *.img *.jp2);;All files (*)");
}

QString message(const std::exception& e) { return QString::fromStdString(e.what()); }

}  // namespace

void MainWindow::createViewerParts() {
  viewer_ = std::make_unique<ViewerParts>();
  ViewerParts& v = *viewer_;
  v.view = new ImageView(this);
  setCentralWidget(v.view);

  v.toolBar = new LabelToolBar(v.view, this);
  addToolBar(v.toolBar);

  v.palette = new ClassPalette(this);
  v.classDock = new QDockWidget(tr("Classes"), this);
  v.classDock->setObjectName("classDock");
  v.classDock->setWidget(v.palette);
  addDockWidget(Qt::LeftDockWidgetArea, v.classDock);

  v.volumeControls = new VolumeControls(this);
  v.volumeDock = new QDockWidget(tr("Volume"), this);
  v.volumeDock->setObjectName("volumeDock");
  v.volumeDock->setWidget(v.volumeControls);
  addDockWidget(Qt::LeftDockWidgetArea, v.volumeDock);
  v.volumeDock->hide();

  // The volume's three planes, as medical viewers show them: on the right,
  // beside the training charts (their tab is raised when a volume opens).
  v.planes = new OrthogonalPlanes(this);
  v.planes->setObjectName("orthogonalPlanes");
  v.planesDock = new QDockWidget(tr("Planes"), this);
  v.planesDock->setObjectName("planesDock");
  v.planesDock->setWidget(v.planes);
  addDockWidget(Qt::RightDockWidgetArea, v.planesDock);
  v.planesDock->hide();

  v.datasetBrowser = new DatasetBrowser(this);
  v.datasetDock = new QDockWidget(tr("Dataset"), this);
  v.datasetDock->setObjectName("datasetDock");
  v.datasetDock->setWidget(v.datasetBrowser);
  addDockWidget(Qt::LeftDockWidgetArea, v.datasetDock);
  v.datasetDock->hide();

  v.cursorLabel = new QLabel(this);
  v.cursorLabel->setObjectName("cursorLabel");
  v.imageLabel = new QLabel(this);
  v.imageLabel->setObjectName("imageInfoLabel");
  statusBar()->addWidget(v.cursorLabel, 1);
  statusBar()->addPermanentWidget(v.imageLabel);

  connect(v.view, &ImageView::cursorMoved, v.cursorLabel, &QLabel::setText);
  connect(v.palette, &ClassPalette::activeClassChanged, v.view, &ImageView::setActiveClass);
  connect(v.palette, &ClassPalette::classesChanged, v.view, &ImageView::refresh);
  connect(v.volumeControls, &VolumeControls::planeChanged, v.view, &ImageView::refresh);
  connect(v.volumeControls, &VolumeControls::planeChanged, this, [this] {
    viewer_->planes->syncWithDocument();
    showCrosshairInView();
  });
  // Undo may switch a volume's slice: the controls follow.
  connect(v.view, &ImageView::labelsChanged, v.volumeControls, &VolumeControls::refresh);
  // The planes show the strokes too, redrawn at most every 150 ms while painting.
  auto* planesRedraw = new QTimer(this);
  planesRedraw->setSingleShot(true);
  planesRedraw->setInterval(150);
  connect(planesRedraw, &QTimer::timeout, this, [this] {
    viewer_->planes->syncWithDocument();
    showCrosshairInView();
  });
  connect(v.view, &ImageView::labelsChanged, planesRedraw, [planesRedraw] {
    if (!planesRedraw->isActive()) planesRedraw->start();
  });
  connect(v.palette, &ClassPalette::classesChanged, v.planes, &OrthogonalPlanes::syncWithDocument);
  connect(v.planes, &OrthogonalPlanes::crosshairMoved, this,
          [this] { showPlaneAtCrosshair(document() ? document()->sliceAxis() : 0); });
  connect(v.planes, &OrthogonalPlanes::editPlaneRequested, this,
          [this](int axis) { showPlaneAtCrosshair(axis); });
  connect(v.datasetBrowser, &DatasetBrowser::entryActivated, this, [this](int index) {
    const DatasetListing* listing = viewer_->datasetBrowser->listing();
    const DatasetEntry& entry = listing->entries().at(index);
    if (!openImage(entry.imagePath)) return;
    try {
      viewer_->document->setLabels(listing->mask(index), listing->classes());
      viewer_->document->markLabelsSaved();  // they are the dataset's mask file
    } catch (const std::exception& e) {
      reportError(this, tr("Cannot load the mask"), message(e));
    }
    viewer_->palette->refresh();
    viewer_->view->refresh();
    viewer_->toolBar->updateUndoState();
  });

  // ---- File menu ----
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open image…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open image"), {}, imageFilter());
    if (!path.isEmpty()) openImage(path);
  });
  open->setObjectName("openImageAction");
  open->setShortcut(QKeySequence::Open);
  v.recentMenu = file->addMenu(tr("Open &recent"));
  v.recentMenu->setObjectName("recentMenu");
  connect(v.recentMenu, &QMenu::aboutToShow, this, [this] {
    QMenu* menu = viewer_->recentMenu;
    menu->clear();
    for (const QString& path : viewer_->recent.list()) {
      menu->addAction(path, this, [this, path] { openImage(path); });
    }
    menu->setEnabled(true);
  });
  file->addAction(tr("Open &dataset folder…"), this,
                  [this] {
                    const QString folder =
                        QFileDialog::getExistingDirectory(this, tr("Open dataset folder"));
                    if (folder.isEmpty()) return;
                    try {
                      viewer_->datasetBrowser->setListing(DatasetListing::open(folder));
                      viewer_->datasetDock->show();
                    } catch (const std::exception& e) {
                      reportError(this, tr("Cannot open the dataset"), message(e));
                    }
                  })
      ->setObjectName("openDatasetAction");
  file->addSeparator();
  file->addAction(tr("&Load labels…"), this,
                  [this] {
                    ImageDocument* doc = viewer_->document.get();
                    if (!doc) return;
                    const QString path = QFileDialog::getOpenFileName(
                        this, tr("Load labels"), QFileInfo(doc->path()).absolutePath(),
                        imageFilter());
                    if (path.isEmpty()) return;
                    try {
                      doc->loadLabels(path);
                    } catch (const std::exception& e) {
                      reportError(this, tr("Cannot load labels"), message(e));
                    }
                    viewer_->palette->refresh();
                    viewer_->view->refresh();
                    viewer_->toolBar->updateUndoState();
                  })
      ->setObjectName("loadLabelsAction");
  QAction* save = file->addAction(tr("&Save labels"), this, [this] {
    ImageDocument* doc = viewer_->document.get();
    if (!doc) return;
    try {
      doc->saveLabels();
      statusBar()->showMessage(tr("Labels saved to %1").arg(doc->labelsFile()), 5000);
    } catch (const std::exception& e) {
      reportError(this, tr("Cannot save labels"), message(e));
    }
  });
  save->setObjectName("saveLabelsAction");
  save->setShortcut(QKeySequence::Save);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  new FileDropFilter(this, [this](const QString& path) { openImage(path); });
}

bool MainWindow::settleUnsavedLabels() {
  ImageDocument* doc = document();
  if (!doc || !doc->hasUnsavedLabels()) return true;
  QMessageBox box(QMessageBox::Warning, tr("Unsaved labels"),
                  tr("The labels of %1 have changed since they were saved.")
                      .arg(QFileInfo(doc->path()).fileName()),
                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
  box.setObjectName("unsavedLabelsDialog");
  box.setInformativeText(
      tr("Save them to %1?")
          .arg(doc->labelsFile().isEmpty() ? doc->defaultLabelsPath() : doc->labelsFile()));
  box.setDefaultButton(QMessageBox::Save);
  switch (box.exec()) {
    case QMessageBox::Save:
      try {
        doc->saveLabels();
        return true;
      } catch (const std::exception& e) {
        reportError(this, tr("Cannot save labels"), message(e));
        return false;
      }
    case QMessageBox::Discard:
      return true;
    default:
      return false;
  }
}

bool MainWindow::openImage(const QString& path) {
  if (!settleUnsavedLabels()) return false;
  std::unique_ptr<ImageDocument> doc;
  try {
    doc = ImageDocument::open(path);
  } catch (const std::exception& e) {
    reportError(this, tr("Cannot open image"), message(e));
    return false;  // what was open stays open
  }
  ViewerParts& v = *viewer_;
  // The widgets let go of the old document before it is destroyed.
  v.view->setDocument(doc.get());
  v.palette->setDocument(doc.get());
  v.volumeControls->setDocument(doc.get());
  v.planes->setDocument(doc.get());
  v.document = std::move(doc);
  ImageDocument* d = v.document.get();
  v.view->setActiveClass(std::max(0, v.palette->activeClass()));
  v.volumeDock->setVisible(d->isVolume());
  v.planesDock->setVisible(d->isVolume());
  if (d->isVolume()) v.planesDock->raise();
  showCrosshairInView();
  v.toolBar->updateUndoState();
  v.imageLabel->setText(d->description());
  v.cursorLabel->clear();
  setWindowTitle(QString("%1 - RevUp Studio").arg(QFileInfo(path).fileName()));
  v.recent.add(path);
  logLine("info", "opened " + path + ": " + d->description());
  for (const auto& w : d->readWarnings()) logLine("warning", QString::fromStdString(w));
  if (!d->readWarnings().empty()) {
    statusBar()->showMessage(QString::fromStdString(d->readWarnings().front()), 10000);
  }
  if (!d->labelsWarning().isEmpty()) {
    reportError(this, tr("Labels not loaded"), d->labelsWarning());
  } else if (!d->labelsFile().isEmpty()) {
    statusBar()->showMessage(tr("Labels loaded from %1").arg(d->labelsFile()), 5000);
  }
  Q_EMIT documentChanged();
  return true;
}

ImageDocument* MainWindow::document() const { return viewer_->document.get(); }

bool MainWindow::collectTrainingData(TrainingJobInput& input, QString& problem) {
  ImageDocument* doc = document();
  if (!doc) {
    problem = tr("Open an image and label some pixels of each class first.");
    return false;
  }
  try {
    input.labels = doc->trainingLabels();
    if (!input.labels.ne(doc->classes().ignore_index).any().item<bool>()) {
      problem = tr("Nothing in %1 is labelled yet: paint some pixels of each class (brush: B).")
                    .arg(QFileInfo(doc->path()).fileName());
      return false;
    }
    input.image = doc->image();
  } catch (const std::exception& e) {
    problem = message(e);
    return false;
  }
  input.classes = doc->classes();
  input.sliceAxis = doc->isVolume() ? doc->sliceAxis() : 0;
  return true;
}

void MainWindow::showPlaneAtCrosshair(int axis) {
  ImageDocument* doc = document();
  if (!doc || !doc->isVolume()) return;
  const auto slice = static_cast<int>(viewer_->planes->crosshair()[static_cast<size_t>(axis)]);
  if (doc->sliceAxis() != axis || doc->sliceIndex() != slice) {
    doc->setSlice(axis, slice);
    viewer_->view->refresh();
    viewer_->volumeControls->refresh();
    viewer_->planes->syncWithDocument();
    predictShownSlice();
  }
  showCrosshairInView();
}

void MainWindow::showCrosshairInView() {
  ImageDocument* doc = document();
  if (!doc || !doc->isVolume()) {
    viewer_->view->setCrosshair(std::nullopt);
    return;
  }
  const auto& c = viewer_->planes->crosshair();
  const int axis = doc->sliceAxis();
  viewer_->view->setCrosshair(
      QPointF(static_cast<double>(c[static_cast<size_t>(planeXAxis(axis))]),
              static_cast<double>(c[static_cast<size_t>(planeYAxis(axis))])));
}

void MainWindow::showPrediction(const torch::Tensor& classIds) {
  ImageDocument* doc = document();
  if (!doc || doc->isVolume()) return;  // volumes: predictShownSlice
  try {
    viewer_->view->setPrediction(classIds);
  } catch (const std::invalid_argument& e) {
    // The user opened another image while training: the prediction is not of it.
    logLine("info", QString("prediction not shown: ") + e.what());
  }
}

bool MainWindow::applyViewerProject(const Project& project) {
  if (project.imagePath.isEmpty()) return true;
  if (!openImage(project.imagePath)) return false;
  ImageDocument* doc = document();
  try {
    if (!project.labelsPath.isEmpty() && QFileInfo::exists(project.labelsPath) &&
        QFileInfo(project.labelsPath) != QFileInfo(doc->labelsFile())) {
      doc->loadLabels(project.labelsPath);
    }
    if (project.classes.size() > 0) doc->setLabels(doc->trainingLabels(), project.classes);
    if (doc->isVolume()) doc->setSlice(project.sliceAxis, project.sliceIndex);
    doc->markLabelsSaved();  // saving the project saved them
  } catch (const std::exception& e) {
    reportError(this, tr("Project labels not restored"), message(e));
  }
  viewer_->palette->refresh();
  viewer_->volumeControls->refresh();
  viewer_->view->refresh();
  viewer_->toolBar->updateUndoState();
  return true;
}

void MainWindow::fillViewerProject(Project& project) {
  ImageDocument* doc = document();
  if (!doc) return;
  project.imagePath = doc->path();
  // A project holds everything: the labels are saved with it (beside the image).
  doc->saveLabels();
  project.labelsPath = doc->labelsFile();
  project.classes = doc->classes();
  project.sliceAxis = doc->sliceAxis();
  project.sliceIndex = doc->sliceIndex();
}

}  // namespace revup::ui
