#pragma once
// The application's log: what went wrong (and what was written where), for a
// user to send with a bug report. Widgets report errors through
// ui/widgets/error_reporter.h, which also logs them.
#include <QString>

namespace revup::ui {

// <AppLocalDataLocation>/revup.log (REVUP_LOG_FILE overrides it).
QString logFilePath();

// Appends "time level message" to the log.
void logLine(const QString& level, const QString& message);

}  // namespace revup::ui
