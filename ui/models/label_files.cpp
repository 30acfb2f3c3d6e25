#include "ui/models/label_files.h"

#include <QFileInfo>

#include <fstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "ui/models/label_editor.h"

namespace revup::ui {

namespace {

std::string shapeText(c10::IntArrayRef s) { return c10::str(s); }

}  // namespace

QString imageStem(const QString& imagePath) {
  QString name = QFileInfo(imagePath).fileName();
  if (name.endsWith(".gz", Qt::CaseInsensitive)) name.chop(3);  // ch2.nii.gz: two extensions
  const int dot = name.lastIndexOf('.');
  return dot > 0 ? name.left(dot) : name;
}

QString labelsPathFor(const QString& imagePath, const QString& extension) {
  return QFileInfo(imagePath).absolutePath() + "/" + imageStem(imagePath) + ".labels" + extension;
}

QString findLabelsFor(const QString& imagePath) {
  for (const char* ext : {".png", ".tif", ".tiff", ".nii.gz", ".nii", ".mha", ".nrrd"}) {
    const QString candidate = labelsPathFor(imagePath, ext);
    if (QFileInfo(candidate).isFile()) return candidate;
  }
  return {};
}

QString classesPathFor(const QString& labelsPath) {
  QString p = labelsPath;
  const int at = p.lastIndexOf(".labels.");
  return (at > 0 ? p.left(at) : p) + ".classes.json";
}

void saveLabelFile(const torch::Tensor& labels, const ClassTable& classes, const Image& reference,
                   const QString& path) {
  // The class table first: killed between the two writes, the old labels
  // meet a table with at most more classes, which reads; new labels with
  // the old table could name classes it lacks.
  nlohmann::json j = classes;
  write_text_atomically(classesPathFor(path).toStdString(), j.dump(2) + "\n");
  write_mask(labels.to(torch::kInt64), classes, reference, path.toStdString());
}

torch::Tensor loadLabelFile(const QString& path, const std::vector<int64_t>& shape,
                            ClassTable& classes) {
  const std::string p = path.toStdString();
  const Image mask = read_image(p);
  torch::Tensor ids;
  if (mask.channels() == 1) {
    if (torch::isFloatingType(mask.pixels.scalar_type())) {
      throw std::runtime_error(p + ": labels must be integer class ids, not floats");
    }
    ids = mask.pixels[0].to(torch::kInt64);
  } else if (mask.channels() >= 3 && !mask.is_volume()) {
    ids = colors_to_ids(mask.pixels.to(torch::kUInt8), ClassTable::numbered(255), p);
  } else {
    throw std::runtime_error(p + ": labels need 1 channel (ids) or 3 (colours), not " +
                             std::to_string(mask.channels()));
  }
  if (ids.sizes() != c10::IntArrayRef(shape)) {
    throw std::runtime_error(p + ": labels of size " + shapeText(ids.sizes()) +
                             " do not match the image's " + shapeText(shape));
  }
  const int64_t lo = ids.min().item<int64_t>();
  const auto labelled = ids.masked_select(ids.ne(kUnlabelled));
  const int64_t hi = labelled.numel() ? labelled.max().item<int64_t>() : 0;
  if (lo < 0 || hi >= kUnlabelled) {
    throw std::runtime_error(p + ": label values must be class ids 0..254 or 255 (unlabelled); " +
                             "found " + std::to_string(lo < 0 ? lo : hi));
  }
  const QString table = classesPathFor(path);
  if (QFileInfo(table).isFile()) {
    std::ifstream in(table.toStdString());
    try {
      from_json(nlohmann::json::parse(in), classes);
    } catch (const std::exception& e) {
      throw std::runtime_error(table.toStdString() + ": not a class table (" + e.what() + ")");
    }
  }
  // Ids past the table get numbered classes, so nothing loaded is invisible.
  while (classes.size() <= hi) {
    classes.classes.push_back(
        {"class " + std::to_string(classes.size()), voc_color(classes.size())});
  }
  return ids.to(torch::kUInt8);
}

}  // namespace revup::ui
