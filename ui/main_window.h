#pragma once
// RevUp Studio's window: the image with its labels in the middle, training,
// memory, reconstruction and metrics panels docked around it.
//
// Its two halves are built in their own files so each stays about one thing:
// main_window_viewer.cpp (open, view, label) and main_window_training.cpp
// (train, watch memory, reconstructions, predictions, export).
#include <QMainWindow>
#include <QString>

#include <memory>

namespace revup::ui {

class ImageDocument;
struct ViewerParts;
struct TrainingParts;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a photo, raster or volume (error dialog and false on failure; what
  // was open before stays open then).
  bool openImage(const QString& path);
  // The open image with its labels and classes; nullptr when nothing is open.
  ImageDocument* document() const;

 Q_SIGNALS:
  // A different image (or none) is open now.
  void documentChanged();

 private:
  void createMenus();
  void createViewerParts();    // main_window_viewer.cpp
  void createTrainingParts();  // main_window_training.cpp

  std::unique_ptr<ViewerParts> viewer_;
  std::unique_ptr<TrainingParts> training_;
};

}  // namespace revup::ui
