#include "ui/volume_prediction.h"

#include <QPointer>
#include <QThreadPool>

#include "io/format_registry.h"
#include "workflows/segmentation_prediction.h"

namespace revup::ui {

namespace {
// [h, w] class ids of one normalized plane [C, h, w].
torch::Tensor classIds(SegmentationNet& net, const torch::Tensor& plane) {
  torch::NoGradGuard noGrad;
  return net->forward(plane.unsqueeze(0)).argmax(1)[0];
}
}  // namespace

torch::Tensor predictSlice(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                           int axis, int64_t index) {
  Image plane = volume;
  plane.pixels = volume.pixels.select(axis + 1, index);  // [C, D, H, W] -> [C, ., .]
  return classIds(net, normalize(plane, stats));
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
      // The workflow revup-cli predict runs, with the model in training.
      SegmentationPredictor predictor;
      predictor.net = job.net;
      predictor.stats = job.stats;
      predictor.classes = job.classes;
      predictor.slice_axis = job.axis;
      const auto ids =
          predict_segmentation(predictor, job.volume, [&](int64_t done, int64_t total) {
            post([done = static_cast<int>(done), total = static_cast<int>(total)](
                     VolumePredictionExport* e) { Q_EMIT e->progress(done, total); });
            return !*cancelled;
          });
      if (!ids.defined()) {
        post([](VolumePredictionExport* e) {
          Q_EMIT e->finished(false, tr("cancelled"));
          e->deleteLater();
        });
        return;
      }
      write_prediction(ids, predictor, job.volume, job.path.toStdString());
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
