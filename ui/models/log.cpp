#include "ui/models/log.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTextStream>

namespace revup::ui {

QString logFilePath() {
  const QString overridden = qEnvironmentVariable("REVUP_LOG_FILE");
  if (!overridden.isEmpty()) return overridden;
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/revup.log";
}

void logLine(const QString& level, const QString& message) {
  const QString path = logFilePath();
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile file(path);
  if (!file.open(QIODevice::Append | QIODevice::Text)) return;  // logging must never fail a task
  QTextStream(&file) << QDateTime::currentDateTime().toString(Qt::ISODate) << ' ' << level << ' '
                     << message << '\n';
}

}  // namespace revup::ui
