#pragma once
// The reconstruction panel: pick a block, a channel and N (1..100); see the
// true activation, its reconstruction from the block's output and the error
// map side by side, and the per-block error for N = 1, 5, 40. Work runs on the
// thread pool; the newest request wins. With the injective stem, block
// "input image" rebuilds the image itself (the paper's Figure 4).
#include <QWidget>

#include <memory>

#include "ui/models/background_task.h"
#include "ui/models/reconstruction_model.h"

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QLabel;
class QLogValueAxis;
class QSlider;
class QSpinBox;
class QValueAxis;
QT_END_NAMESPACE

namespace revup::ui {

class ChartLegend;

class ReconstructionView : public QWidget {
  Q_OBJECT

 public:
  explicit ReconstructionView(QWidget* parent = nullptr);

  // A trained model and the normalized image it sees ([C, H, W]).
  void setModel(SegmentationNet net, const torch::Tensor& normalized);
  bool hasModel() const { return model_ != nullptr; }

  void setRequest(const ReconstructionRequest& request);  // updates the controls too
  const ReconstructionResult& lastResult() const { return last_; }
  const ErrorCurves& lastCurves() const { return curves_; }

 Q_SIGNALS:
  void reconstructed(const revup::ui::ReconstructionResult& result);
  void curvesReady();

 private:
  void requestReconstruction();
  void requestCurves();
  void showResult(const ReconstructionResult& result);
  void showCurves(const ErrorCurves& curves);

  std::shared_ptr<ReconstructionModel> model_;
  // The newest request of each kind wins; the older is cancelled.
  LatestTask reconstruction_, curvesTask_;
  ReconstructionResult last_;
  ErrorCurves curves_;
  QSpinBox *block_, *channel_;
  QSlider* iterations_;
  QLabel *iterationsLabel_, *truth_, *rebuilt_, *error_, *summary_;
  QChart* chart_;
  QChartView* chartView_;
  ChartLegend* legend_;
};

}  // namespace revup::ui
