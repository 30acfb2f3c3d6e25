#pragma once
// The widgets and state of the main window's viewer half (open, view, label).
#include <QPointer>

#include <memory>

#include "ui/models/image_document.h"
#include "ui/models/recent_files.h"

class QDockWidget;
class QLabel;
class QMenu;

namespace revup::ui {

class ClassPalette;
class DatasetBrowser;
class ImageView;
class LabelToolBar;
class OrthogonalPlanes;
class VolumeControls;

struct ViewerParts {
  std::unique_ptr<ImageDocument> document;
  ImageView* view = nullptr;
  LabelToolBar* toolBar = nullptr;
  ClassPalette* palette = nullptr;
  VolumeControls* volumeControls = nullptr;
  OrthogonalPlanes* planes = nullptr;
  DatasetBrowser* datasetBrowser = nullptr;
  QDockWidget *classDock = nullptr, *volumeDock = nullptr, *datasetDock = nullptr,
              *planesDock = nullptr;
  QMenu* recentMenu = nullptr;
  QLabel *cursorLabel = nullptr, *imageLabel = nullptr;
  RecentFiles recent;
};

}  // namespace revup::ui
