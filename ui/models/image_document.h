#pragma once
// An open image with its labels: what the viewer shows and the trainer reads.
// No widgets (testable without a window): it opens a file through io, says
// what kind of image it is, draws any region of the current 2D plane at any
// scale, puts the cursor's position into words, and owns the label map (a
// LabelEditor) and the class table.
//
// Kinds: photos (decoded once), rasters (georeferenced or huge; above 4096²
// pixels read lazily as tiles through the file's overviews) and volumes
// (shown one slice at a time along an axis, with window/level).
#include <torch/types.h>

#include <QImage>
#include <QPointF>
#include <QRect>
#include <QRectF>
#include <QSize>
#include <QString>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "io/class_table.h"
#include "io/image.h"
#include "ui/models/display_range.h"
#include "ui/models/image_tiles.h"
#include "ui/models/label_editor.h"

namespace revup::ui {

enum class ImageKind { Photo, Raster, Volume };

class ImageDocument {
 public:
  // 2D images with more pixels than this are read tile by tile.
  static constexpr int64_t kTiledPixels = int64_t{4096} * 4096;

  // Opens `path`; labels saved beside it (NAME.labels.*) are loaded too (a
  // problem with them is kept in labelsWarning(), the image still opens).
  // Throws std::runtime_error naming the file.
  static std::unique_ptr<ImageDocument> open(const QString& path);

  QString path() const { return path_; }
  ImageKind kind() const { return kind_; }
  bool isVolume() const { return kind_ == ImageKind::Volume; }
  bool isTiled() const { return tiled_; }
  const ImageInfo& info() const { return info_; }
  // "3840 x 2160, 3 channels, uint8, photo" (spacing for volumes).
  QString description() const;

  // The whole image ([C, H, W] or [C, D, H, W]); a tiled raster is read in
  // full on the first call (for training).
  const Image& image() const;
  // What the reader had to say (DICOM files skipped, series not read).
  const std::vector<std::string>& readWarnings() const { return meta_.warnings; }

  // Labels: uint8 in the editor; for training int64 [H, W] or [D, H, W] with
  // 255 for unlabelled pixels.
  LabelEditor& labels() { return editor_; }
  const LabelEditor& labels() const { return editor_; }
  torch::Tensor trainingLabels() const;

  const ClassTable& classes() const { return classes_; }
  // Returns the new class's id (colours from the VOC palette).
  int addClass(const QString& name);
  void renameClass(int id, const QString& name);
  void recolorClass(int id, const Rgb& color);

  // The 2D plane shown and edited: for volumes the slice along an axis
  // (0, 1, 2 = the tensor's D, H, W); 2D images have axis 0, slice 0.
  int sliceAxis() const { return editor_.axis(); }
  int sliceIndex() const { return static_cast<int>(editor_.slice()); }
  int sliceCount(int axis) const;
  void setSlice(int axis, int index);
  QSize planeSize() const;
  // Height of a plane pixel over its width (voxel spacing; 1 for 2D).
  double pixelAspect() const;
  // Physical voxel spacing (x, y, z), for volumes.
  std::optional<std::array<double, 3>> spacing() const;

  // Grey levels for non-8-bit data (window/level of volumes); the data's
  // overall [min, max] bounds what a user may pick.
  DisplayRange displayRange() const { return range_; }
  DisplayRange dataRange() const { return dataRange_; }
  void setDisplayRange(const DisplayRange& range);

  // The current plane's picture (tiles read lazily for rasters).
  ImageTiles& tiles() { return *tiles_; }
  // `region` of the plane drawn into an `out`-sized image, complete (all
  // tiles read): for tests, thumbnails and screenshots.
  QImage render(const QRectF& region, QSize out);

  // "x 10, y 20 · value 12 · X 500105.00, Y 3999795.00 (UTM zone 33N)" for a
  // plane position; "" outside the plane.
  QString coordinateText(QPointF planePos) const;

  // Undo / redo of label edits; a volume switches to the slice the edit was
  // made in. Return the changed plane pixels' bounding box.
  QRect undo();
  QRect redo();

  // Label files: where they are saved by default, the file they came from
  // (or were last saved to; "" if none) and a problem found when opening.
  QString defaultLabelsPath() const;
  QString labelsFile() const { return labelsFile_; }
  QString labelsWarning() const { return labelsWarning_; }
  // Save to `path` ("" = labelsFile() or the default). Throws naming the file.
  void saveLabels(const QString& path = {});
  // Replaces the labels with a mask file of the same size (and the classes
  // with its table, if one is beside it); on error nothing changes.
  void loadLabels(const QString& path);
  // Replaces the labels with ids already read ([H, W] / [D, H, W], 255 for
  // unlabelled) and the classes; throws std::invalid_argument on a size mismatch.
  void setLabels(const torch::Tensor& ids, const ClassTable& classes);
  // Labels or classes changed since they were opened, loaded or saved.
  bool hasUnsavedLabels() const { return revision() != savedRevision_; }
  // What is shown now is what the label file holds (a project restored it).
  void markLabelsSaved() { savedRevision_ = revision(); }

 private:
  ImageDocument() = default;
  void rebuildPlane();
  uint64_t revision() const { return editor_.revision() + classRevision_; }
  std::vector<int64_t> labelShape() const;

  QString path_;
  ImageKind kind_ = ImageKind::Photo;
  bool tiled_ = false;
  ImageInfo info_;
  Image meta_;  // georeferencing, voxel geometry, nodata (no pixels)
  mutable std::mutex imageMutex_;
  mutable Image image_;  // tiled rasters: read on the first image() call
  ClassTable classes_;
  LabelEditor editor_;
  DisplayRange range_, dataRange_;
  std::unique_ptr<ImageTiles> tiles_;
  QString labelsFile_, labelsWarning_;
  uint64_t classRevision_ = 0, savedRevision_ = 0;
};

}  // namespace revup::ui
