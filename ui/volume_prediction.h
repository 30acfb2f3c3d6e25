#pragma once
// A whole volume's prediction, slice by slice along the axis the model was
// trained on, in a worker: progress per slice, cancellable, and the mask
// written atomically in the volume's format and geometry (NIfTI spacing,
// origin, direction) only when every slice is done.
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/image.h"
#include "models/segmentation_net.h"

namespace revup::ui {

// [h, w] class ids of one slice of `volume` ([C, D, H, W]) along `axis`: the
// plane the viewer shows for that axis and index.
torch::Tensor predictSlice(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                           int axis, int64_t index);

class VolumePredictionExport : public QObject {
  Q_OBJECT

 public:
  struct Job {
    SegmentationNet net{nullptr};  // used by the worker alone: pass a copy
    ChannelStats stats;
    Image volume;
    int axis = 0;
    ClassTable classes;
    QString path;
  };
  // Starts on the thread pool; deletes itself after `finished`.
  static VolumePredictionExport* start(Job job, QObject* parent);
  void cancel() { *cancelled_ = true; }
  // Its parent going away (the window closing) stops the worker too.
  ~VolumePredictionExport() override { cancel(); }

 Q_SIGNALS:
  void progress(int done, int total);
  // ok: the mask is at `path`. Otherwise `message` says why (or "cancelled");
  // nothing was written then.
  void finished(bool ok, const QString& message);

 private:
  explicit VolumePredictionExport(QObject* parent) : QObject(parent) {}
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace revup::ui
