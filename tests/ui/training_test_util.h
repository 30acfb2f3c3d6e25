#pragma once
// Small images with labels for the GUI's tests.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QString>
#include <QTimer>

#include <torch/torch.h>

#include <functional>

#include "io/class_table.h"
#include "io/image.h"
#include "ui/models/training_job.h"

namespace revup::ui::testing {

// A 3-band uint8 image: a bright disc (class 1) on a darker background
// (class 0), with noise; labels painted on a few strokes of each, the rest
// unlabelled (255).
struct LabelledScene {
  Image image;
  torch::Tensor fullLabels;     // every pixel's class
  torch::Tensor paintedLabels;  // what a user painted: a band of rows
  ClassTable classes = ClassTable::from_names({"background", "disc"});
};

inline LabelledScene labelledScene(int64_t size = 64, uint64_t seed = 1) {
  torch::manual_seed(seed);
  const auto coords = torch::arange(size, torch::kFloat);
  const auto yy = coords.view({size, 1}), xx = coords.view({1, size});
  const auto disc =
      ((yy - size / 2.0).pow(2) + (xx - size / 2.0).pow(2)).lt(std::pow(size / 4.0, 2));
  LabelledScene s;
  auto pixels = 60.0 + 120.0 * disc.to(torch::kFloat) + 20.0 * torch::randn({3, size, size});
  s.image.pixels = pixels.clamp(0, 255).to(torch::kUInt8);
  s.image.path = "scene.png";
  s.fullLabels = disc.to(torch::kLong);
  s.paintedLabels = torch::full({size, size}, 255, torch::kLong);
  const auto band = torch::arange(size / 2 - 4, size / 2 + 4);
  s.paintedLabels.index_put_({band}, s.fullLabels.index({band}));
  return s;
}

// A job training the cpu preset on the scene's painted labels, without
// augmentation (so runs are comparable step for step).
inline TrainingJobInput sceneJob(const LabelledScene& scene, const QString& runDir, int epochs) {
  TrainingJobInput in;
  in.image = scene.image;
  in.labels = scene.paintedLabels;
  in.classes = scene.classes;
  in.settings.preset = "cpu";
  in.settings.epochs = epochs;
  in.settings.augment = false;
  in.runDir = runDir.toStdString();
  return in;
}

// Runs the event loop until `done()` or `ms` milliseconds pass; returns
// done(). Sleeps in the loop between checks: a busy wait would take the CPU
// from the worker being waited for.
inline bool waitFor(const std::function<bool()>& done, int ms = 120000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < ms) {
    QEventLoop loop;
    QTimer::singleShot(10, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return done();
}

}  // namespace revup::ui::testing
