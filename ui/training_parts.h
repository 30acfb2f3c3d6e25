#pragma once
// The widgets and state of the main window's training half.
namespace revup::ui {

struct TrainingParts {};

}  // namespace revup::ui
