#pragma once
// A volume's three orthogonal planes as medical viewers show them (ITK-SNAP,
// 3D Slicer), without widgets: which plane is axial, coronal or sagittal,
// which way up and which side left, the letters at the edges, and each
// plane's picture with the labels (and a whole-volume prediction) drawn in.
//
// Convention. The file's direction matrix (io's VoxelGeometry, ITK's LPS
// frame: +x = patient's left, +y = posterior, +z = superior) says where each
// voxel axis points. Planes are shown in the radiological convention those
// viewers default to: patient's right on the screen's left, anterior up in
// axial planes, superior up in coronal and sagittal ones, anterior on the
// left in sagittal ones. Only flips are applied (voxel axes are never
// swapped on screen), so an oblique or permuted volume is still shown the
// nearest way round, and the edge letters always say what is there. Without
// geometry (no direction known) planes are shown in voxel order, unlettered.
#include <torch/types.h>

#include <QImage>
#include <QString>

#include <array>
#include <optional>

#include "io/image.h"

namespace revup::ui {

class ImageDocument;

// Tensor axes [D, H, W]; the plane along `axis` has its x along
// planeXAxis(axis) and its y along planeYAxis(axis) (as LabelEditor's planes).
int planeXAxis(int axis);
int planeYAxis(int axis);

struct PlaneOrientation {
  QString name;            // "Axial", "Coronal", "Sagittal"; "Slices along D" without geometry
  bool flipX = false;      // the picture is mirrored left-right on screen
  bool flipY = false;      // and top-bottom
  QString left, right;     // patient directions at the screen's edges ("R", "L", ...); empty
  QString top, bottom;     // without geometry
  double pixelAspect = 1;  // a plane pixel's height over its width (voxel spacing)
};

PlaneOrientation planeOrientation(const std::optional<VoxelGeometry>& voxels, int axis);

// Plane `index` along `axis` of the document's volume, one picture pixel per
// voxel, in voxel order (flips are the view's): the grey levels of the
// document's window/level, a whole-volume `prediction` (uint8 [D, H, W]
// class ids, undefined for none) and the labels over it at `opacity`.
QImage planePicture(const ImageDocument& document, int axis, int64_t index,
                    const torch::Tensor& prediction, double opacity);

// The crosshair: one voxel index per tensor axis (D, H, W).
using VoxelIndex = std::array<int64_t, 3>;

}  // namespace revup::ui
