// Saves a GUI project and its label file over and over, each generation
// different, for tests/ui/save_crash.sh to kill at any moment (issue 17); then
// checks that what is on disk is one whole generation.
//   revup_save_loop save FOLDER      saves generations 1, 2, ... until killed
//   revup_save_loop check FOLDER     exit 0 if project and labels read whole
//                                    and agree with each other, 1 naming why
// The labels are large enough (1024x1024) for the write to take a while.
#include <QFileInfo>
#include <QString>

#include <cstdio>
#include <exception>
#include <string>

#include "io/image.h"
#include "ui/models/label_files.h"
#include "ui/models/project.h"

namespace {

using revup::ClassTable;
using revup::ui::Project;

constexpr int64_t kSide = 1024;

// Labels of generation k: k + 1 classes, row r holds class (r + k) % (k + 1).
torch::Tensor labelsOf(int64_t generation) {
  const auto rows = torch::arange(kSide, torch::kInt64).unsqueeze(1).expand({kSide, kSide});
  return ((rows + generation) % (generation + 1)).contiguous();
}

QString projectPath(const QString& folder) { return folder + "/scene.revup"; }
QString labelsPath(const QString& folder) { return folder + "/scene.labels.png"; }

int save(const QString& folder) {
  revup::Image reference;
  reference.pixels = torch::zeros({3, kSide, kSide}, torch::kUInt8);
  reference.path = (folder + "/scene.png").toStdString();
  // Generations go on from what is on disk, so that every save differs from
  // the one before it, whichever process made that one.
  int64_t first = 1;
  if (QFileInfo(projectPath(folder)).isFile())
    first = Project::load(projectPath(folder)).sliceIndex + 1;
  for (int64_t g = first;; ++g) {
    const int64_t k = g % 200 + 1;  // labels 0..k: below 255 (unlabelled)
    Project p;
    p.imagePath = folder + "/scene.png";
    p.labelsPath = labelsPath(folder);
    p.classes = ClassTable::numbered(k + 1);
    p.sliceIndex = static_cast<int>(g);
    revup::ui::saveLabelFile(labelsOf(k), p.classes, reference, labelsPath(folder));
    p.save(projectPath(folder));
    std::printf("saved %lld\n", static_cast<long long>(g));
    std::fflush(stdout);
  }
}

int check(const QString& folder) {
  const Project p = Project::load(projectPath(folder));
  ClassTable classes;
  const auto ids =
      revup::ui::loadLabelFile(labelsPath(folder), {kSide, kSide}, classes).to(torch::kInt64);
  // The labels may be one generation ahead of the project (saved first), never behind.
  const int64_t generation = ids.max().item<int64_t>();
  if (!ids.equal(labelsOf(generation))) {
    std::printf("FAIL: %s is not one whole generation\n", labelsPath(folder).toUtf8().constData());
    return 1;
  }
  const int64_t saved = p.sliceIndex % 200 + 1;
  if (generation != saved && generation != saved % 200 + 1) {
    std::printf("FAIL: labels of generation %lld beside a project of generation %d\n",
                static_cast<long long>(generation), p.sliceIndex);
    return 1;
  }
  if (static_cast<int64_t>(classes.size()) < generation + 1) {
    std::printf("FAIL: the class table has %lld classes, the labels use %lld\n",
                static_cast<long long>(classes.size()), static_cast<long long>(generation + 1));
    return 1;
  }
  std::printf("whole: project generation %d, labels with %lld classes\n", p.sliceIndex,
              static_cast<long long>(generation + 1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s save|check FOLDER\n", argv[0]);
    return 2;
  }
  const std::string what = argv[1];
  const QString folder = QString::fromLocal8Bit(argv[2]);
  try {
    if (what == "save") return save(folder);
    if (what == "check") return check(folder);
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown command %s\n", argv[1]);
  return 2;
}
