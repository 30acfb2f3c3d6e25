// Projects round-trip, move with their folder, and refuse what they are not.
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include "models/reconstruction_probe.h"
#include "ui/models/project.h"

namespace revup::ui {
namespace {

TEST(Project, RoundTripsWithPathsRelativeToTheProject) {
  QTemporaryDir dir;
  Project p;
  p.imagePath = dir.filePath("data/scene.tif");
  p.labelsPath = dir.filePath("data/scene.labels.tif");
  p.classes = ClassTable::from_names({"water", "forest", "town"});
  p.classes.classes[1].color = {1, 2, 3};
  p.settings.preset = "gpu";
  p.settings.lipschitz = 0.8;
  p.settings.fixedPointIterations = 3;
  p.settings.memSave = false;
  p.settings.epochs = 7;
  p.runs << dir.filePath("runs/run-001") << "/elsewhere/run";
  p.sliceAxis = 2;
  p.sliceIndex = 40;
  const QString file = dir.filePath("study.revup");
  p.save(file);

  QFile raw(file);
  ASSERT_TRUE(raw.open(QIODevice::ReadOnly));
  const QByteArray text = raw.readAll();
  EXPECT_TRUE(text.contains("\"data/scene.tif\"")) << text.constData();
  EXPECT_FALSE(text.contains(dir.path().toUtf8()));

  // Moved as a whole, it still finds its files.
  const QString moved = dir.filePath("moved");
  QDir().mkpath(moved + "/data");
  ASSERT_TRUE(QFile::copy(file, moved + "/study.revup"));
  const auto q = Project::load(moved + "/study.revup");
  EXPECT_EQ(q.imagePath, QDir::cleanPath(moved + "/data/scene.tif"));
  EXPECT_EQ(q.labelsPath, QDir::cleanPath(moved + "/data/scene.labels.tif"));
  ASSERT_EQ(q.classes.size(), 3);
  EXPECT_EQ(q.classes.classes[1].name, "forest");
  EXPECT_EQ(q.classes.classes[1].color, (Rgb{1, 2, 3}));
  EXPECT_EQ(q.settings.preset, "gpu");
  EXPECT_DOUBLE_EQ(q.settings.lipschitz, 0.8);
  EXPECT_EQ(q.settings.fixedPointIterations, 3);
  EXPECT_FALSE(q.settings.memSave);
  EXPECT_EQ(q.settings.epochs, 7);
  ASSERT_EQ(q.runs.size(), 2);
  EXPECT_EQ(q.runs[1], "/elsewhere/run");
  EXPECT_EQ(q.sliceAxis, 2);
  EXPECT_EQ(q.sliceIndex, 40);
}

TEST(Project, RefusesWhatIsNotAProjectAndKeepsTheOldFileOnAFailedSave) {
  QTemporaryDir dir;
  const QString notJson = dir.filePath("a.revup");
  QFile f(notJson);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("{ truncated");
  f.close();
  try {
    Project::load(notJson);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a.revup"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Project::load(dir.filePath("missing.revup")), std::runtime_error);

  const QString good = dir.filePath("good.revup");
  Project p;
  p.imagePath = dir.filePath("x.png");
  p.save(good);
  EXPECT_THROW(p.save(dir.filePath("no/such/folder/p.revup")), std::runtime_error);
  EXPECT_EQ(Project::load(good).imagePath, QDir::cleanPath(dir.filePath("x.png")));
}

TEST(Project, NextRunFolderCountsUp) {
  QTemporaryDir dir;
  const QString beside = dir.filePath("study.revup");
  EXPECT_TRUE(nextRunFolder(beside).endsWith("runs/run-001"));
  QDir().mkpath(dir.filePath("runs/run-001"));
  EXPECT_TRUE(nextRunFolder(beside).endsWith("runs/run-002"));
}

TEST(TrainingSettings, AreRememberedBetweenSessionsAndSurviveGarbage) {
  TrainingSettings s;
  s.epochs = 23;
  s.lipschitz = 0.7;
  s.injectiveStem = true;
  rememberTrainingSettings(s);
  const auto back = rememberedTrainingSettings();
  EXPECT_EQ(back.epochs, 23);
  EXPECT_DOUBLE_EQ(back.lipschitz, 0.7);
  EXPECT_TRUE(back.injectiveStem);

  QSettings().setValue("training/settings", QByteArray("{not json"));
  EXPECT_EQ(rememberedTrainingSettings().epochs, TrainingSettings{}.epochs);
  QSettings().remove("training/settings");
}

TEST(TrainingSettings, TheInjectiveStemMakesTheInputImageRebuildable) {
  TrainingSettings s;
  EXPECT_FALSE(reconstructs_input(SegmentationNet(s.modelConfig(3, 2))->backbone));
  s.injectiveStem = true;
  const auto config = s.modelConfig(3, 2);
  EXPECT_TRUE(config.backbone.injective_stem);
  EXPECT_TRUE(reconstructs_input(SegmentationNet(config)->backbone));
}

}  // namespace
}  // namespace revup::ui
