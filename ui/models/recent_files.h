#pragma once
// The last ten images opened, newest first, remembered between sessions
// (QSettings "recentFiles").
#include <QString>
#include <QStringList>

namespace revup::ui {

class RecentFiles {
 public:
  static constexpr int kMaxEntries = 10;
  QStringList list() const;
  void add(const QString& path);
  void remove(const QString& path);
};

}  // namespace revup::ui
