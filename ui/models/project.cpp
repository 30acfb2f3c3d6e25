#include "ui/models/project.h"

#include <QDir>
#include <QFileInfo>

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/json_number.h"

namespace revup::ui {
namespace {

QString relativeTo(const QDir& dir, const QString& path) {
  if (path.isEmpty()) return path;
  const QString relative = dir.relativeFilePath(path);
  return relative.startsWith("..") ? QFileInfo(path).absoluteFilePath() : relative;
}

QString absoluteFrom(const QDir& dir, const QString& path) {
  if (path.isEmpty()) return path;
  return QDir::cleanPath(dir.absoluteFilePath(path));
}

}  // namespace

Project Project::load(const QString& path) {
  const std::string file = path.toStdString();
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot open the project file");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw std::runtime_error(file + ": not a RevUp project (" + e.what() + ")");
  }
  // Compared as JSON, not read with value(): a "format" or "version" of
  // another type is then the same "not a project", not a bare type error.
  if (!j.is_object() || !j.contains("format") || j["format"] != "revup-project") {
    throw std::runtime_error(file + ": not a RevUp project (no \"format\": \"revup-project\")");
  }
  if (j.contains("version") && !j["version"].is_number()) {
    throw std::runtime_error(file + ": bad project (\"version\" is not a number)");
  }
  if (j.contains("version") && j["version"] > kFormatVersion) {
    throw std::runtime_error(file + ": written by a newer RevUp Studio (project version " +
                             j["version"].dump() + ")");
  }
  const QDir dir = QFileInfo(path).absoluteDir();
  Project p;
  try {
    p.imagePath = absoluteFrom(dir, QString::fromStdString(j.value("image", "")));
    p.labelsPath = absoluteFrom(dir, QString::fromStdString(j.value("labels", "")));
    if (j.contains("classes")) p.classes = j.at("classes").get<ClassTable>();
    if (j.contains("training")) p.settings = j.at("training").get<TrainingSettings>();
    for (const auto& run : j.value("runs", nlohmann::json::array())) {
      p.runs << absoluteFrom(dir, QString::fromStdString(run.get<std::string>()));
    }
    p.sliceAxis = json_number(j, "slice_axis", 0);
    p.sliceIndex = json_number(j, "slice_index", 0);
  } catch (const std::exception& e) {
    throw std::runtime_error(file + ": bad project (" + e.what() + ")");
  }
  return p;
}

void Project::save(const QString& path) const {
  const QDir dir = QFileInfo(path).absoluteDir();
  nlohmann::json runsJson = nlohmann::json::array();
  for (const auto& run : runs) runsJson.push_back(relativeTo(dir, run).toStdString());
  const nlohmann::json j = {{"format", "revup-project"},
                            {"version", kFormatVersion},
                            {"image", relativeTo(dir, imagePath).toStdString()},
                            {"labels", relativeTo(dir, labelsPath).toStdString()},
                            {"classes", classes},
                            {"training", settings},
                            {"runs", runsJson},
                            {"slice_axis", sliceAxis},
                            {"slice_index", sliceIndex}};
  write_text_atomically(path.toStdString(), j.dump(2) + "\n");
}

QString nextRunFolder(const QString& besideFile) {
  const QDir runs(QFileInfo(besideFile).absoluteDir().filePath("runs"));
  for (int i = 1;; ++i) {
    const QString candidate = runs.filePath(QString("run-%1").arg(i, 3, 10, QChar('0')));
    if (!QFileInfo::exists(candidate)) return candidate;
  }
}

}  // namespace revup::ui
