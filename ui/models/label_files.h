#pragma once
// Label maps on disk, next to their image and in a format like it:
// NAME.labels.png for photos, NAME.labels.tif (same georeferencing) for
// rasters, NAME.labels.nii.gz (same voxel geometry) for volumes; the class
// names and colours in NAME.classes.json beside it.
#include <torch/types.h>

#include <QString>

#include <vector>

#include "io/class_table.h"
#include "io/image.h"

namespace revup::ui {

// "scene" for /data/scene.tif, "ch2" for /data/ch2.nii.gz.
QString imageStem(const QString& imagePath);
// NAME.labels<extension> beside the image (extension with its dot).
QString labelsPathFor(const QString& imagePath, const QString& extension);
// An existing NAME.labels.* beside the image in a format io reads; "" if none.
QString findLabelsFor(const QString& imagePath);
QString classesPathFor(const QString& labelsPath);

// Writes `labels` (uint8 ids, 255 unlabelled) through io's mask writer
// (atomic; keeps the reference's georeferencing or voxel geometry) and the
// class table beside it. Throws std::runtime_error naming the file.
void saveLabelFile(const torch::Tensor& labels, const ClassTable& classes, const Image& reference,
                   const QString& path);

// Reads a mask as uint8 ids and checks it against the image's `shape` ([H, W]
// or [D, H, W]); colour masks (VOC palette PNGs) are mapped back through the
// VOC colours. `classes` is replaced by the table saved beside it, if any.
// Throws std::runtime_error naming the file and the problem.
torch::Tensor loadLabelFile(const QString& path, const std::vector<int64_t>& shape,
                            ClassTable& classes);

}  // namespace revup::ui
