#pragma once
// Errors a user must see: a dialog that does not block the event loop (so
// training goes on and tests can inspect it) and a line in the log file.
#include <QString>

#include "ui/models/log.h"

class QWidget;

namespace revup::ui {

// Logs `message` and shows it in a window-modal message box titled `title`
// (objectName "errorDialog"), opened without blocking.
void reportError(QWidget* parent, const QString& title, const QString& message);

}  // namespace revup::ui
