// The training half of the main window: train, memory, reconstructions,
// predictions, export.
#include "ui/main_window.h"
#include "ui/training_parts.h"

namespace revup::ui {

void MainWindow::createTrainingParts() { training_ = std::make_unique<TrainingParts>(); }

}  // namespace revup::ui
