#pragma once
// A project: everything a user set up, in one JSON file they can reopen: the
// image, its labels file, the classes, the training settings and the runs
// trained so far. Paths are stored relative to the project file when they
// sit beside it or below, so a project folder can be moved as a whole.
#include <QString>
#include <QStringList>

#include "io/class_table.h"
#include "ui/models/training_settings.h"

namespace revup::ui {

struct Project {
  static constexpr int kFormatVersion = 1;

  QString imagePath;   // absolute once loaded
  QString labelsPath;  // "" when the labels were never saved
  ClassTable classes;
  TrainingSettings settings;
  QStringList runs;  // run folders, oldest first
  int sliceAxis = 0, sliceIndex = 0;

  // Throws std::runtime_error naming the file: unreadable, not JSON, not a
  // RevUp project, or a newer format version.
  static Project load(const QString& path);
  // Atomic (temporary file + rename): a failed save keeps the previous file.
  void save(const QString& path) const;
};

// Where a new run of this project goes: runs/run-001, run-002, ... beside the
// project file (or beside the image when there is no project file yet).
QString nextRunFolder(const QString& besideFile);

}  // namespace revup::ui
