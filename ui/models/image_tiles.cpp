#include "ui/models/image_tiles.h"

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <utility>

#include "io/format_registry.h"

namespace revup::ui {

namespace {

// The zoom level whose pixels are closest to, and not coarser than, the
// screen's: 2^level plane pixels per level pixel.
int levelFor(double scale, int maxLevel) {
  if (scale >= 1) return 0;
  return std::clamp(static_cast<int>(std::floor(std::log2(1 / scale) + 1e-9)), 0, maxLevel);
}

QRectF clipped(const QRectF& r, QSize size) { return r & QRectF(QPointF(0, 0), QSizeF(size)); }

}  // namespace

PictureTiles::PictureTiles(QImage image) { levels_.push_back(std::move(image)); }

bool PictureTiles::draw(QPainter& painter, const QRectF& visible, double scale, double) {
  const QRectF area = clipped(visible, size());
  if (area.isEmpty()) return true;
  const int level = levelFor(scale, 16);
  while (static_cast<int>(levels_.size()) <= level && levels_.back().width() > 1 &&
         levels_.back().height() > 1) {
    const QImage& last = levels_.back();
    levels_.push_back(last.scaled(std::max(1, last.width() / 2), std::max(1, last.height() / 2),
                                  Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
  }
  const QImage& image = levels_[std::min<size_t>(level, levels_.size() - 1)];
  const double fx = double(image.width()) / size().width();
  const double fy = double(image.height()) / size().height();
  const QRectF source(area.x() * fx, area.y() * fy, area.width() * fx, area.height() * fy);
  painter.drawImage(area, image, source);
  return true;
}

RasterTiles::RasterTiles(std::string path, const ImageInfo& info, std::optional<double> nodata,
                         size_t cacheBytes)
    : path_(std::move(path)),
      width_(info.width),
      height_(info.height),
      nodata_(nodata),
      cacheBytes_(cacheBytes) {
  const double fit = std::min(1.0, double(kThumbnailSize) / std::max(width_, height_));
  const int64_t tw = std::max<int64_t>(1, std::llround(width_ * fit));
  const int64_t th = std::max<int64_t>(1, std::llround(height_ * fit));
  const Image thumb = read_image_window(path_, Window{0, 0, width_, height_, tw, th});
  decodedPixels_ += tw * th;
  const auto shown = thumb.pixels.slice(0, 0, std::min<int64_t>(3, thumb.channels()));
  range_ = percentileRange(shown, nodata_);
  thumbnail_ = toQImage(thumb.pixels, range_, nodata_);
  thumbnailFactor_ = double(width_) / tw;
  while ((std::max(width_, height_) >> maxLevel_) > kTileSize) ++maxLevel_;
}

QRect RasterTiles::tileRect(const Key& k) const {
  const int64_t span = int64_t{kTileSize} << k.level;
  const int64_t x = k.tx * span, y = k.ty * span;
  return QRect(static_cast<int>(x), static_cast<int>(y),
               static_cast<int>(std::min(span, width_ - x)),
               static_cast<int>(std::min(span, height_ - y)));
}

QImage RasterTiles::readTile(const Key& k) const {
  const QRect r = tileRect(k);
  const int64_t f = int64_t{1} << k.level;
  const Window w{r.x(),
                 r.y(),
                 r.width(),
                 r.height(),
                 std::max<int64_t>(1, (r.width() + f - 1) / f),
                 std::max<int64_t>(1, (r.height() + f - 1) / f)};
  return toQImage(read_image_window(path_, w).pixels, range_, nodata_);
}

const QImage* RasterTiles::cached(const Key& key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return &it->second.image;
}

bool RasterTiles::draw(QPainter& painter, const QRectF& visible, double scale, double budgetMs) {
  const QRectF area = clipped(visible, size());
  if (area.isEmpty()) return true;
  // The thumbnail first: the whole picture at once, refined by tiles on top.
  const double t = 1 / thumbnailFactor_;
  painter.drawImage(area, thumbnail_,
                    QRectF(area.x() * t, area.y() * t, area.width() * t, area.height() * t));
  if (scale <= t * 1.001) return true;  // the thumbnail is already as sharp as the screen

  const int level = levelFor(scale, maxLevel_);
  const int64_t span = int64_t{kTileSize} << level;
  const int tx0 = static_cast<int>(area.left() / span), ty0 = static_cast<int>(area.top() / span);
  const int tx1 = static_cast<int>(std::ceil(area.right() / span)) - 1;
  const int ty1 = static_cast<int>(std::ceil(area.bottom() / span)) - 1;
  // Nearest the centre first: what the user looks at sharpens first.
  std::vector<Key> keys;
  for (int ty = ty0; ty <= ty1; ++ty)
    for (int tx = tx0; tx <= tx1; ++tx) keys.push_back({level, tx, ty});
  const QPointF centre = area.center();
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    const QPointF da = QRectF(tileRect(a)).center() - centre;
    const QPointF db = QRectF(tileRect(b)).center() - centre;
    return da.manhattanLength() < db.manhattanLength();
  });

  QElapsedTimer timer;
  timer.start();
  bool complete = true;
  for (const Key& key : keys) {
    const QImage* image = cached(key);
    if (!image) {
      if (budgetMs >= 0 && timer.elapsed() > budgetMs) {
        complete = false;
        continue;
      }
      QImage tile = readTile(key);
      decodedPixels_ += int64_t{tile.width()} * tile.height();
      ++tilesRead_;
      usedBytes_ += tile.sizeInBytes();
      lru_.push_front(key);
      image = &cache_.emplace(key, Entry{std::move(tile), lru_.begin()}).first->second.image;
    }
    painter.drawImage(QRectF(tileRect(key)), *image);
  }
  // Evict least recently used tiles (never the ones just drawn).
  while (usedBytes_ > cacheBytes_ && lru_.size() > keys.size()) {
    auto it = cache_.find(lru_.back());
    usedBytes_ -= it->second.image.sizeInBytes();
    cache_.erase(it);
    lru_.pop_back();
  }
  return complete;
}

}  // namespace revup::ui
