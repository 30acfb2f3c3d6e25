#include "ui/widgets/class_palette.h"

#include <QColorDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QListWidget>
#include <QPixmap>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/models/image_document.h"

namespace revup::ui {

ClassPalette::ClassPalette(QWidget* parent) : QWidget(parent) {
  setObjectName("classPalette");
  list_ = new QListWidget(this);
  list_->setObjectName("classList");
  add_ = new QPushButton(tr("Add"), this);
  add_->setObjectName("addClassButton");
  rename_ = new QPushButton(tr("Rename"), this);
  rename_->setObjectName("renameClassButton");
  recolor_ = new QPushButton(tr("Colour…"), this);
  recolor_->setObjectName("recolorClassButton");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add_);
  buttons->addWidget(rename_);
  buttons->addWidget(recolor_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(list_);
  layout->addLayout(buttons);

  connect(add_, &QPushButton::clicked, this, &ClassPalette::onAdd);
  connect(rename_, &QPushButton::clicked, this, &ClassPalette::onRename);
  connect(recolor_, &QPushButton::clicked, this, &ClassPalette::onRecolor);
  connect(list_, &QListWidget::itemDoubleClicked, this, &ClassPalette::onRename);
  connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0) Q_EMIT activeClassChanged(row);
  });
  setEnabled(false);
}

void ClassPalette::setDocument(ImageDocument* document) {
  document_ = document;
  setEnabled(document_ != nullptr);
  refresh();
}

void ClassPalette::refresh() {
  // Class 1 at first: painting "background" is rarely what a user starts with.
  const int current = list_->currentRow() < 0 ? 1 : list_->currentRow();
  const QSignalBlocker block(list_);
  list_->clear();
  if (!document_) return;
  const auto& classes = document_->classes().classes;
  for (size_t i = 0; i < classes.size(); ++i) {
    QPixmap swatch(16, 16);
    const auto& c = classes[i].color;
    swatch.fill(QColor(c[0], c[1], c[2]));
    list_->addItem(new QListWidgetItem(
        QIcon(swatch), QString("%1  %2").arg(i).arg(QString::fromStdString(classes[i].name))));
  }
  list_->setCurrentRow(std::min(current, list_->count() - 1));
}

int ClassPalette::activeClass() const { return list_->currentRow(); }

void ClassPalette::setActiveClass(int id) { list_->setCurrentRow(id); }

int ClassPalette::addClass(const QString& name) {
  if (!document_) return -1;
  const int id = document_->addClass(name);
  refresh();
  setActiveClass(id);
  Q_EMIT classesChanged();
  return id;
}

void ClassPalette::renameClass(int id, const QString& name) {
  if (!document_ || name.trimmed().isEmpty()) return;
  document_->renameClass(id, name.trimmed());
  refresh();
  Q_EMIT classesChanged();
}

void ClassPalette::recolorClass(int id, const QColor& color) {
  if (!document_ || !color.isValid()) return;
  document_->recolorClass(id,
                          {static_cast<uint8_t>(color.red()), static_cast<uint8_t>(color.green()),
                           static_cast<uint8_t>(color.blue())});
  refresh();
  Q_EMIT classesChanged();
}

void ClassPalette::onAdd() {
  if (!document_) return;
  bool ok = false;
  const QString name =
      QInputDialog::getText(this, tr("Add class"), tr("Name:"), QLineEdit::Normal,
                            QString("class %1").arg(document_->classes().size()), &ok);
  if (ok && !name.trimmed().isEmpty()) addClass(name.trimmed());
}

void ClassPalette::onRename() {
  const int id = activeClass();
  if (!document_ || id < 0) return;
  bool ok = false;
  const QString name =
      QInputDialog::getText(this, tr("Rename class"), tr("Name:"), QLineEdit::Normal,
                            QString::fromStdString(document_->classes().classes[id].name), &ok);
  if (ok) renameClass(id, name);
}

void ClassPalette::onRecolor() {
  const int id = activeClass();
  if (!document_ || id < 0) return;
  const auto& c = document_->classes().classes[id].color;
  const QColor color = QColorDialog::getColor(QColor(c[0], c[1], c[2]), this, tr("Class colour"));
  recolorClass(id, color);
}

}  // namespace revup::ui
