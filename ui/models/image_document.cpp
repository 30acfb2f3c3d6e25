#include "ui/models/image_document.h"

#include <QPainter>
#include <QStringList>

#include <cmath>
#include <stdexcept>

#include "io/format_registry.h"
#include "ui/models/coordinate_text.h"
#include "ui/models/label_files.h"

namespace revup::ui {

namespace {

const char* dtypeName(torch::Dtype t) {
  switch (t) {
    case torch::kUInt8:
      return "uint8";
    case torch::kInt16:
      return "int16";
    case torch::kInt32:
      return "int32";
    case torch::kInt64:
      return "int64";
    case torch::kFloat32:
      return "float32";
    case torch::kFloat64:
      return "float64";
    default:
      return "other";
  }
}

ClassTable defaultClasses() {
  ClassTable t;
  t.classes = {{"background", voc_color(0)}, {"class 1", voc_color(1)}};
  return t;
}

Image metadataOf(const Image& image) {
  Image m;
  m.path = image.path;
  m.band_names = image.band_names;
  m.nodata = image.nodata;
  m.geo = image.geo;
  m.voxels = image.voxels;
  m.warnings = image.warnings;
  return m;
}

}  // namespace

std::unique_ptr<ImageDocument> ImageDocument::open(const QString& path) {
  std::unique_ptr<ImageDocument> doc(new ImageDocument);
  doc->path_ = path;
  const std::string p = path.toStdString();
  const ImageFormat* format = default_registry().find(p);
  if (format && format->info && format->read_window) {
    const ImageInfo info = read_image_info(p);
    if (info.depth == 1 && info.width * info.height > kTiledPixels) {
      // Huge: only the metadata (a 1x1 window keeps the full geotransform)
      // and the thumbnail now, tiles when they are looked at.
      doc->tiled_ = true;
      doc->info_ = info;
      doc->meta_ = metadataOf(read_image_window(p, Window{0, 0, 1, 1, 1, 1}));
      doc->kind_ = ImageKind::Raster;
      auto tiles = std::make_unique<RasterTiles>(p, info, doc->meta_.nodata);
      doc->range_ = doc->dataRange_ = tiles->range();
      doc->tiles_ = std::move(tiles);
    }
  }
  if (!doc->tiled_) {
    doc->image_ = read_image(p);
    const Image& im = doc->image_;
    if (im.pixels.dim() != 3 && im.pixels.dim() != 4) {
      throw std::runtime_error(p + ": not a 2D image or a volume");
    }
    doc->meta_ = metadataOf(im);
    doc->info_ = {im.channels(), im.depth(), im.height(), im.width(), im.pixels.scalar_type(), 0};
    doc->kind_ =
        im.is_volume() ? ImageKind::Volume : (im.geo ? ImageKind::Raster : ImageKind::Photo);
    const auto shown = im.pixels.slice(0, 0, std::min<int64_t>(3, im.channels()));
    if (doc->isVolume()) {
      doc->range_ = percentileRange(shown, im.nodata, 1, 99);
      doc->dataRange_ = percentileRange(shown, im.nodata, 0, 100);
    } else {
      doc->range_ = percentileRange(shown, im.nodata);
      doc->dataRange_ = percentileRange(shown, im.nodata, 0, 100);
    }
  }
  doc->classes_ = defaultClasses();
  doc->editor_.replaceLabels(torch::full(doc->labelShape(), kUnlabelled, torch::kUInt8));
  if (doc->isVolume()) doc->editor_.setPlane(0, doc->info_.depth / 2);
  if (!doc->tiled_) doc->rebuildPlane();

  const QString found = findLabelsFor(path);
  if (!found.isEmpty()) {
    try {
      doc->loadLabels(found);
    } catch (const std::exception& e) {
      doc->labelsWarning_ = QString::fromStdString(e.what());
    }
  }
  doc->markLabelsSaved();
  return doc;
}

std::vector<int64_t> ImageDocument::labelShape() const {
  if (isVolume()) return {info_.depth, info_.height, info_.width};
  return {info_.height, info_.width};
}

QString ImageDocument::description() const {
  static const char* kinds[] = {"photo", "raster", "volume"};
  QString size = isVolume()
                     ? QString("%1 x %2 x %3").arg(info_.width).arg(info_.height).arg(info_.depth)
                     : QString("%1 x %2").arg(info_.width).arg(info_.height);
  QString text = QString("%1, %2 channel%3, %4, %5")
                     .arg(size)
                     .arg(info_.channels)
                     .arg(info_.channels == 1 ? "" : "s")
                     .arg(dtypeName(info_.dtype))
                     .arg(kinds[static_cast<int>(kind_)]);
  if (tiled_) text += QString(" (tiled, %1 overviews)").arg(info_.overview_count);
  if (const auto s = spacing()) {
    text += QString(", spacing %1 x %2 x %3 mm").arg((*s)[0]).arg((*s)[1]).arg((*s)[2]);
  }
  if (meta_.geo) {
    const QString crs = crsName(meta_.geo->crs_wkt);
    text += QString(", pixel %1").arg(std::abs(meta_.geo->transform[1]));
    if (!crs.isEmpty()) text += " (" + crs + ")";
  }
  return text;
}

const Image& ImageDocument::image() const {
  std::lock_guard<std::mutex> lock(imageMutex_);
  if (!image_.pixels.defined()) image_ = read_image(path_.toStdString());
  return image_;
}

torch::Tensor ImageDocument::trainingLabels() const { return editor_.labels().to(torch::kInt64); }

int ImageDocument::addClass(const QString& name) {
  if (classes_.size() >= kUnlabelled) {
    throw std::runtime_error("at most 255 classes (255 marks unlabelled pixels)");
  }
  const int id = static_cast<int>(classes_.size());
  classes_.classes.push_back({name.toStdString(), voc_color(id)});
  ++classRevision_;
  return id;
}

void ImageDocument::renameClass(int id, const QString& name) {
  classes_.classes.at(id).name = name.toStdString();
  ++classRevision_;
}

void ImageDocument::recolorClass(int id, const Rgb& color) {
  classes_.classes.at(id).color = color;
  ++classRevision_;
}

int ImageDocument::sliceCount(int axis) const {
  if (!isVolume()) return 1;
  const int64_t sizes[] = {info_.depth, info_.height, info_.width};
  return static_cast<int>(sizes[axis]);
}

void ImageDocument::setSlice(int axis, int index) {
  if (!isVolume()) return;
  editor_.setPlane(axis, index);
  rebuildPlane();
}

QSize ImageDocument::planeSize() const {
  const auto p = editor_.plane();
  return {p.width, p.height};
}

std::optional<std::array<double, 3>> ImageDocument::spacing() const {
  if (!isVolume() || !meta_.voxels) return std::nullopt;
  return meta_.voxels->spacing;
}

double ImageDocument::pixelAspect() const {
  const auto s = spacing();
  if (!s) return 1;
  const auto& v = *s;  // x (W), y (H), z (D)
  switch (sliceAxis()) {
    case 0:
      return v[1] / v[0];
    case 1:
      return v[2] / v[0];
    default:
      return v[2] / v[1];
  }
}

void ImageDocument::setDisplayRange(const DisplayRange& range) {
  if (tiled_) return;  // tiles keep the range they were read with
  range_ = range;
  if (range_.high <= range_.low) range_.high = range_.low + 1e-6;
  rebuildPlane();
}

void ImageDocument::rebuildPlane() {
  torch::Tensor plane = image_.pixels;
  if (isVolume()) plane = plane.select(sliceAxis() + 1, sliceIndex());
  tiles_ = std::make_unique<PictureTiles>(toQImage(plane, range_, meta_.nodata));
}

QImage ImageDocument::render(const QRectF& region, QSize out) {
  QImage image(out, QImage::Format_RGB32);
  image.fill(Qt::black);
  QPainter painter(&image);
  const double sx = out.width() / region.width(), sy = out.height() / region.height();
  painter.scale(sx, sy);
  painter.translate(-region.topLeft());
  tiles_->draw(painter, region, std::min(sx, sy), -1);
  return image;
}

QString ImageDocument::coordinateText(QPointF pos) const {
  const QSize size = planeSize();
  if (pos.x() < 0 || pos.y() < 0 || pos.x() >= size.width() || pos.y() >= size.height()) return {};
  const int x = static_cast<int>(std::floor(pos.x())), y = static_cast<int>(std::floor(pos.y()));
  QString text = QString("x %1, y %2").arg(x).arg(y);
  // Tensor indices of the pixel: [h, w] or [d, h, w].
  int64_t d = 0, h = y, w = x;
  if (isVolume()) {
    text += QString(", slice %1").arg(sliceIndex());
    switch (sliceAxis()) {
      case 0:
        d = sliceIndex();
        break;
      case 1:
        d = y, h = sliceIndex(), w = x;
        break;
      default:
        d = y, h = x, w = sliceIndex();
        break;
    }
  }
  if (!tiled_) {
    auto v = isVolume() ? image_.pixels.select(1, d) : image_.pixels;
    v = v.select(1, h).select(1, w);
    QStringList values;
    for (int64_t c = 0; c < std::min<int64_t>(v.size(0), 4); ++c) {
      values << QString::number(v[c].item<double>(), 'g', 6);
    }
    text += " · value " + values.join(", ");
  }
  const uint8_t label = editor_.plane().at(x, y);
  if (label != kUnlabelled && label < classes_.size()) {
    text += " · " + QString::fromStdString(classes_.classes[label].name);
  }
  if (meta_.geo) text += " · " + geoCoordinateText(*meta_.geo, pos);
  if (isVolume() && meta_.voxels) {
    text += " · " + physicalCoordinateText(*meta_.voxels, {double(w), double(h), double(d)});
  }
  return text;
}

QRect ImageDocument::undo() {
  const int axis = sliceAxis(), slice = sliceIndex();
  const QRect changed = editor_.undo();
  if (axis != sliceAxis() || slice != sliceIndex()) rebuildPlane();
  return changed;
}

QRect ImageDocument::redo() {
  const int axis = sliceAxis(), slice = sliceIndex();
  const QRect changed = editor_.redo();
  if (axis != sliceAxis() || slice != sliceIndex()) rebuildPlane();
  return changed;
}

QString ImageDocument::defaultLabelsPath() const {
  switch (kind_) {
    case ImageKind::Photo:
      return labelsPathFor(path_, ".png");
    case ImageKind::Raster:
      return labelsPathFor(path_, ".tif");
    default:
      return labelsPathFor(path_, ".nii.gz");
  }
}

void ImageDocument::saveLabels(const QString& path) {
  QString target = path;
  if (target.isEmpty()) target = labelsFile_.isEmpty() ? defaultLabelsPath() : labelsFile_;
  saveLabelFile(editor_.labels(), classes_, meta_, target);
  labelsFile_ = target;
  markLabelsSaved();
}

void ImageDocument::loadLabels(const QString& path) {
  ClassTable classes = classes_;
  auto ids = loadLabelFile(path, labelShape(), classes);
  setLabels(ids, classes);
  labelsFile_ = path;
  labelsWarning_.clear();
  markLabelsSaved();
}

void ImageDocument::setLabels(const torch::Tensor& ids, const ClassTable& classes) {
  if (ids.sizes() != c10::IntArrayRef(labelShape())) {
    throw std::invalid_argument("labels of size " + c10::str(ids.sizes()) +
                                " do not match the image's " + c10::str(labelShape()));
  }
  const int axis = sliceAxis(), slice = sliceIndex();
  editor_.replaceLabels(ids.to(torch::kUInt8).contiguous());
  if (isVolume()) editor_.setPlane(axis, slice);
  classes_ = classes;
  ++classRevision_;
}

}  // namespace revup::ui
