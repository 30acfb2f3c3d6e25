#pragma once
// A volume's three orthogonal planes side by side with a shared crosshair,
// as medical viewers show them (orientation: ui/models/volume_planes.h).
// Clicking or dragging in a plane moves the crosshair there (the other planes
// follow); double-clicking a plane makes it the one the main view shows and
// paints in. The plane the main view shows is framed.
#include <torch/types.h>

#include <QWidget>

#include <array>

#include "ui/models/volume_planes.h"

namespace revup::ui {

class ImageDocument;
class PlaneView;

class OrthogonalPlanes : public QWidget {
  Q_OBJECT

 public:
  explicit OrthogonalPlanes(QWidget* parent = nullptr);

  // Not owned; nullptr or a 2D image shows nothing. The crosshair starts at
  // the volume's centre, on the main view's slice.
  void setDocument(ImageDocument* document);
  const VoxelIndex& crosshair() const { return crosshair_; }
  void setCrosshair(const VoxelIndex& voxel);
  // The main view's plane changed (its slice joins the crosshair) or the
  // labels, classes or grey levels did: draw again.
  void syncWithDocument();
  // Class ids [D, H, W] of the whole volume (a 3D model's), drawn in every
  // plane; an undefined tensor clears it.
  void setPrediction(const torch::Tensor& classIds);
  bool hasPrediction() const { return prediction_.defined(); }
  PlaneOrientation orientation(int axis) const;
  // A click in plane `axis` on its voxel column x, row y: the crosshair moves
  // there (crosshairMoved when it did).
  void moveCrosshairFrom(int axis, int64_t x, int64_t y);

 Q_SIGNALS:
  // The user moved the crosshair (the main view should show its slice).
  void crosshairMoved(const VoxelIndex& voxel);
  // The user asked to paint in plane `axis` at the crosshair.
  void editPlaneRequested(int axis);

 private:
  void redraw();

  ImageDocument* document_ = nullptr;
  std::array<PlaneView*, 3> views_{};
  VoxelIndex crosshair_{0, 0, 0};
  torch::Tensor prediction_;  // uint8 [D, H, W]
};

}  // namespace revup::ui
