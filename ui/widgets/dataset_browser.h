#pragma once
// "Open dataset folder": the images of a training folder in the layouts the
// CLI reads (images/ + masks/, or VOC / labelme with JPEGImages/), listed in
// a dock; picking one opens it with its mask.
#include <torch/types.h>

#include <QString>
#include <QWidget>

#include <memory>
#include <vector>

#include "io/class_table.h"

class QLabel;
class QListWidget;

namespace revup {
class SegmentationDataset;
}

namespace revup::ui {

struct DatasetEntry {
  QString name, imagePath, maskPath;
};

// The listing, without widgets. io's dataset reader supplies names, masks
// and classes (the same conversions training uses); the image files are
// found by name in images/ or JPEGImages/.
class DatasetListing {
 public:
  // Throws std::runtime_error naming the folder when no layout is recognized.
  static std::unique_ptr<DatasetListing> open(const QString& folder);
  ~DatasetListing();

  QString folder() const { return folder_; }
  const std::vector<DatasetEntry>& entries() const { return entries_; }
  const ClassTable& classes() const;
  // The entry's mask as class ids [H, W] (int64, 255 for unlabelled).
  torch::Tensor mask(size_t index) const;

 private:
  DatasetListing() = default;
  QString folder_;
  std::unique_ptr<SegmentationDataset> dataset_;
  std::vector<DatasetEntry> entries_;
  std::vector<size_t> datasetIndex_;
};

class DatasetBrowser : public QWidget {
  Q_OBJECT

 public:
  explicit DatasetBrowser(QWidget* parent = nullptr);
  void setListing(std::unique_ptr<DatasetListing> listing);
  const DatasetListing* listing() const { return listing_.get(); }

 Q_SIGNALS:
  // The user picked entry `index` of listing().
  void entryActivated(int index);

 private:
  std::unique_ptr<DatasetListing> listing_;
  QLabel* title_;
  QListWidget* list_;
};

}  // namespace revup::ui
