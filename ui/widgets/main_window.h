#pragma once
// RevUp Studio's window: the image with its labels in the middle, training,
// memory, reconstruction and metrics panels docked around it.
//
// Its two halves are built in their own files so each stays about one thing:
// main_window_viewer.cpp (open, view, label) and main_window_training.cpp
// (train, watch memory, reconstructions, predictions, export).
#include <QMainWindow>
#include <QString>

#include <torch/types.h>

#include <memory>

namespace revup::ui {

class ExportDialog;
class ImageDocument;
struct Project;
struct TrainingJobInput;
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
  // Before the open image is replaced or the window closes: labels changed
  // since they were last saved are saved or discarded as the user answers
  // (dialog "unsavedLabelsDialog"); false when the user cancels or saving fails.
  bool settleUnsavedLabels();

  // Projects: the image, labels, classes, training settings and runs.
  bool openProject(const QString& path);
  bool saveProject(const QString& path);
  QString projectPath() const { return projectPath_; }

  // Training (main_window_training.cpp).
  bool startTraining();
  // Continues the run in `runDir` on the image and labels open, to the
  // panel's epoch count (Training > Continue a run…).
  bool continueRun(const QString& runDir);
  void pauseTraining();
  void resumeTraining();
  void stopTraining();
  bool isTraining() const;
  // The trained runs of this session or project, newest last.
  QStringList runs() const;

  // Export: the model of a run (the dialog runs revup-cli export's code) and
  // the latest prediction as a mask matching the image's format and geometry.
  // A volume is predicted slice by slice in a worker first (progress dialog
  // "predictionProgress", cancellable): true then means started, and
  // predictionExported tells the end.
  ExportDialog* showExportDialog();
  bool exportPrediction(const QString& path);

  // Brings a docked panel to the front: "training", "memory",
  // "reconstruction", "metrics" (false for an unknown name).
  bool raisePanel(const QString& name);

  // The window's size and its panels' places as the last session left them
  // (QSettings; saved when the window closes). Not for screenshots, which
  // must not depend on who ran the program before.
  void restoreLayout();
  void saveLayout() const;
  // The window at `size` with its panels in their first places, sized to it
  // (what a new user sees; screenshots at several sizes).
  void setDefaultLayout(const QSize& size);

 Q_SIGNALS:
  // A different image (or none) is open now.
  void documentChanged();
  // Training reached the end of an epoch (1-based) / ended.
  void trainingEpochFinished(int epoch);
  void trainingFinished(bool completed);
  // A prediction mask was written (ok) or not (message says why).
  void predictionExported(bool ok, const QString& message);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createMenus();
  void createViewerParts();                      // main_window_viewer.cpp
  void createTrainingParts();                    // main_window_training.cpp
  bool beginTraining(const QString& resumeDir);  // empty: a new run

  // Between the halves. Viewer: what training needs (false and the reason
  // when nothing is open or labelled), showing a prediction over the image
  // ([H, W] class ids of the current image or slice), project state.
  bool collectTrainingData(TrainingJobInput& input, QString& problem);
  void showPrediction(const torch::Tensor& classIds);
  // Volumes: the latest model's prediction of the slice shown, computed on the
  // thread pool when a model arrives or another slice is shown (a whole
  // volume every epoch would cost more than the epoch).
  void predictShownSlice();
  // Volumes: the main view shows plane `axis` through the planes' crosshair
  // (its slice there), with the crosshair drawn in it.
  void showPlaneAtCrosshair(int axis);
  void showCrosshairInView();
  bool applyViewerProject(const Project& project);
  void fillViewerProject(Project& project);
  // Training: its part of the project.
  void applyTrainingProject(const Project& project);
  void fillTrainingProject(Project& project) const;

  QString projectPath_;
  bool layoutRemembered_ = false;  // restoreLayout ran: closing saves the layout

  std::unique_ptr<ViewerParts> viewer_;
  std::unique_ptr<TrainingParts> training_;
};

}  // namespace revup::ui
