#pragma once
// The widgets of the main window's training half and the controller they show.
#include <QDockWidget>
#include <QElapsedTimer>

#include "ui/models/training_controller.h"
#include "ui/widgets/memory_chart_view.h"
#include "ui/widgets/metrics_chart.h"
#include "ui/widgets/reconstruction_view.h"
#include "ui/widgets/training_panel.h"

QT_BEGIN_NAMESPACE
class QTableWidget;
QT_END_NAMESPACE

namespace revup::ui {

struct TrainingParts {
  TrainingPanel* panel = nullptr;
  MemoryChartView* memory = nullptr;
  ReconstructionView* reconstruction = nullptr;
  MetricsChart* metrics = nullptr;
  QTableWidget* classIou = nullptr;
  // The training state (a child of the window): session, runs, latest model.
  TrainingController* controller = nullptr;
  // How often the views redraw while training goes on.
  QElapsedTimer sinceMemoryRedraw, sinceReconstruction;
};

}  // namespace revup::ui
