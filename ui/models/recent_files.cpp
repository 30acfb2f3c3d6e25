#include "ui/models/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace revup::ui {

QStringList RecentFiles::list() const { return QSettings().value("recentFiles").toStringList(); }

void RecentFiles::add(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  QStringList files = list();
  files.removeAll(absolute);
  files.prepend(absolute);
  while (files.size() > kMaxEntries) files.removeLast();
  QSettings().setValue("recentFiles", files);
}

void RecentFiles::remove(const QString& path) {
  QStringList files = list();
  files.removeAll(path);
  QSettings().setValue("recentFiles", files);
}

}  // namespace revup::ui
