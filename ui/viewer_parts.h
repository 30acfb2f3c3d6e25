#pragma once
// The widgets and state of the main window's viewer half (open, view, label).
#include <QLabel>

namespace revup::ui {

struct ViewerParts {
  QLabel* placeholder = nullptr;
};

}  // namespace revup::ui
