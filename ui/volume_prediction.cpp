#include "ui/volume_prediction.h"

#include <QPointer>
#include <QThreadPool>

#include <vector>

#include "io/format_registry.h"

namespace revup::ui {

torch::Tensor predictSlice(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                           int axis, int64_t index) {
  torch::NoGradGuard noGrad;
  Image plane = volume;
  plane.pixels = volume.pixels.select(axis + 1, index);  // [C, D, H, W] -> [C, ., .]
  return net->forward(normalize(plane, stats).unsqueeze(0)).argmax(1)[0];
}

torch::Tensor predictVolume(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                            int axis, const std::function<bool(int, int)>& onSlice) {
  net->eval();
  const int total = static_cast<int>(volume.pixels.size(axis + 1));
  std::vector<torch::Tensor> slices;
  slices.reserve(total);
  for (int k = 0; k < total; ++k) {
    slices.push_back(predictSlice(net, volume, stats, axis, k).to(torch::kUInt8));
    if (!onSlice(k + 1, total)) return {};
  }
  return torch::stack(slices, axis).to(torch::kInt64);
}

VolumePredictionExport* VolumePredictionExport::start(Job job, QObject* parent) {
  auto* self = new VolumePredictionExport(parent);
  QPointer<VolumePredictionExport> guard(self);
  auto cancelled = self->cancelled_;
  QThreadPool::globalInstance()->start([guard, cancelled, job = std::move(job)]() mutable {
    const auto post = [guard](auto f) {
      QMetaObject::invokeMethod(qApp, [guard, f] {
        if (guard) f(guard.data());
      });
    };
    try {
      const auto ids =
          predictVolume(job.net, job.volume, job.stats, job.axis, [&](int done, int total) {
            post([done, total](VolumePredictionExport* e) { Q_EMIT e->progress(done, total); });
            return !*cancelled;
          });
      if (!ids.defined()) {
        post([](VolumePredictionExport* e) {
          Q_EMIT e->finished(false, tr("cancelled"));
          e->deleteLater();
        });
        return;
      }
      write_mask(ids, job.classes, job.volume, job.path.toStdString());
      post([path = job.path](VolumePredictionExport* e) {
        Q_EMIT e->finished(true, path);
        e->deleteLater();
      });
    } catch (const std::exception& error) {
      post([message = QString::fromStdString(error.what())](VolumePredictionExport* e) {
        Q_EMIT e->finished(false, message);
        e->deleteLater();
      });
    }
  });
  return self;
}

}  // namespace revup::ui
