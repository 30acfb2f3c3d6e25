#include "ui/widgets/dataset_browser.h"

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include <stdexcept>

#include "io/format_registry.h"
#include "io/segmentation_dataset.h"

namespace revup::ui {

namespace {

// The readable image in `dir` named `stem` (any extension io reads).
QString findImage(const QDir& dir, const QString& stem) {
  for (const QFileInfo& f : dir.entryInfoList({stem + ".*"}, QDir::Files, QDir::Name)) {
    if (f.completeBaseName() == stem && default_registry().find(f.filePath().toStdString())) {
      return f.filePath();
    }
  }
  return {};
}

}  // namespace

DatasetListing::~DatasetListing() = default;

std::unique_ptr<DatasetListing> DatasetListing::open(const QString& folder) {
  std::unique_ptr<DatasetListing> listing(new DatasetListing);
  listing->folder_ = folder;
  DatasetOptions options;
  options.stats = ChannelStats{{0.0}, {1.0}};  // not training: skip the statistics pass
  options.val_fraction = 0;
  listing->dataset_ = open_segmentation_dataset(folder.toStdString(), options);
  QDir images(folder + "/images");
  if (!images.exists()) images = QDir(folder + "/JPEGImages");
  for (size_t i = 0; i < listing->dataset_->size(); ++i) {
    const QString name = QString::fromStdString(listing->dataset_->name(i));
    const QString image = findImage(images, name);
    if (image.isEmpty()) continue;  // manifests elsewhere: not listed
    listing->entries_.push_back(
        {name, image, QString::fromStdString(listing->dataset_->mask_source(i))});
    listing->datasetIndex_.push_back(i);
  }
  if (listing->entries_.empty()) {
    throw std::runtime_error(folder.toStdString() + ": no images with masks found");
  }
  return listing;
}

const ClassTable& DatasetListing::classes() const { return dataset_->classes(); }

torch::Tensor DatasetListing::mask(size_t index) const {
  return dataset_->mask(datasetIndex_.at(index));
}

DatasetBrowser::DatasetBrowser(QWidget* parent) : QWidget(parent) {
  setObjectName("datasetBrowser");
  title_ = new QLabel(tr("No dataset open"), this);
  title_->setWordWrap(true);
  list_ = new QListWidget(this);
  list_->setObjectName("datasetList");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(title_);
  layout->addWidget(list_);
  connect(list_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* item) { Q_EMIT entryActivated(list_->row(item)); });
  connect(list_, &QListWidget::itemClicked, this,
          [this](QListWidgetItem* item) { Q_EMIT entryActivated(list_->row(item)); });
}

void DatasetBrowser::setListing(std::unique_ptr<DatasetListing> listing) {
  listing_ = std::move(listing);
  list_->clear();
  if (!listing_) return;
  title_->setText(QString("%1 (%2 images)")
                      .arg(QFileInfo(listing_->folder()).fileName())
                      .arg(listing_->entries().size()));
  for (const auto& e : listing_->entries()) list_->addItem(e.name);
}

}  // namespace revup::ui
