#pragma once
// Errors a user must see: a dialog that does not block the event loop (so
// training goes on and tests can inspect it) and a line in the log file.
#include <QString>

class QWidget;

namespace revup::ui {

// The log every reported error is appended to:
// <AppLocalDataLocation>/revup.log (REVUP_LOG_FILE overrides it).
QString logFilePath();

// Appends "time level message" to the log.
void logLine(const QString& level, const QString& message);

// Logs `message` and shows it in a window-modal message box titled `title`
// (objectName "errorDialog"), opened without blocking.
void reportError(QWidget* parent, const QString& title, const QString& message);

}  // namespace revup::ui
