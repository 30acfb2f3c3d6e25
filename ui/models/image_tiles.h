#pragma once
// What a 2D plane looks like on screen, at any scale, without decoding more
// than the screen shows. Two kinds:
//  - PictureTiles: an image decoded once (photos, volume slices), with
//    half-size copies made on demand for zoomed-out views;
//  - RasterTiles: a huge raster read lazily as 256x256 tiles per zoom level
//    through io's windows (which use the file's overviews), kept in an LRU
//    cache, over a whole-image thumbnail read when the raster is opened.
#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QSize>

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/image.h"
#include "ui/models/display_range.h"

namespace revup::ui {

class ImageTiles {
 public:
  virtual ~ImageTiles() = default;
  virtual QSize size() const = 0;
  // Draws what covers `visible` (plane pixels) with `painter`, whose
  // transform maps plane pixels to the target; `scale`: target pixels per
  // plane pixel. Missing tiles are read while `budgetMs` lasts (negative: no
  // limit). Returns false when some were left for a later call (a coarser
  // picture is shown there meanwhile).
  virtual bool draw(QPainter& painter, const QRectF& visible, double scale, double budgetMs) = 0;

  // Pixels read from the file so far (every read window's output size).
  int64_t decodedPixels() const { return decodedPixels_; }
  int64_t tilesRead() const { return tilesRead_; }

 protected:
  int64_t decodedPixels_ = 0, tilesRead_ = 0;
};

class PictureTiles : public ImageTiles {
 public:
  explicit PictureTiles(QImage image);
  QSize size() const override { return levels_.front().size(); }
  bool draw(QPainter& painter, const QRectF& visible, double scale, double budgetMs) override;

 private:
  std::vector<QImage> levels_;  // levels_[k]: the image at 1/2^k size
};

class RasterTiles : public ImageTiles {
 public:
  static constexpr int kTileSize = 256;        // pixels of a tile at its level
  static constexpr int kThumbnailSize = 1024;  // longest side of the overview
  // Reads the thumbnail (the whole raster at <= 1024 pixels) and takes the
  // display range from it (a percentile stretch unless 8-bit).
  RasterTiles(std::string path, const ImageInfo& info, std::optional<double> nodata,
              size_t cacheBytes = 192u << 20);
  QSize size() const override { return {static_cast<int>(width_), static_cast<int>(height_)}; }
  bool draw(QPainter& painter, const QRectF& visible, double scale, double budgetMs) override;

  const DisplayRange& range() const { return range_; }
  const QImage& thumbnail() const { return thumbnail_; }
  size_t cachedTiles() const { return cache_.size(); }

 private:
  struct Key {
    int level, tx, ty;
    bool operator==(const Key& o) const { return level == o.level && tx == o.tx && ty == o.ty; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return (static_cast<size_t>(k.level) << 56) ^ (static_cast<size_t>(k.tx) << 28) ^
             static_cast<size_t>(k.ty);
    }
  };
  struct Entry {
    QImage image;
    std::list<Key>::iterator lru;
  };
  const QImage* cached(const Key& key);
  QImage readTile(const Key& key) const;
  QRect tileRect(const Key& key) const;  // in plane pixels

  std::string path_;
  int64_t width_, height_;
  std::optional<double> nodata_;
  DisplayRange range_;
  QImage thumbnail_;
  double thumbnailFactor_ = 1;  // plane pixels per thumbnail pixel
  int maxLevel_ = 0;
  size_t cacheBytes_, usedBytes_ = 0;
  std::list<Key> lru_;  // most recently used first
  std::unordered_map<Key, Entry, KeyHash> cache_;
};

}  // namespace revup::ui
