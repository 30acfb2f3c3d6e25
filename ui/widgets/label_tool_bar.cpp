#include "ui/widgets/label_tool_bar.h"

#include <QAction>
#include <QActionGroup>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>

#include "ui/models/image_document.h"
#include "ui/widgets/image_view.h"

namespace revup::ui {

LabelToolBar::LabelToolBar(ImageView* view, QWidget* parent)
    : QToolBar(tr("Labelling"), parent), view_(view) {
  setObjectName("labelToolBar");
  auto* tools = new QActionGroup(this);
  auto addTool = [&](const QString& text, const QString& name, const QKeySequence& key,
                     ImageView::Tool tool) {
    QAction* a = addAction(text);
    a->setObjectName(name);
    a->setCheckable(true);
    a->setShortcut(key);
    a->setToolTip(QString("%1 (%2)").arg(text, key.toString()));
    tools->addAction(a);
    connect(a, &QAction::triggered, view_, [this, tool] { view_->setTool(tool); });
    return a;
  };
  brush_ = addTool(tr("Brush"), "brushAction", QKeySequence(Qt::Key_B), ImageView::Tool::Brush);
  eraser_ = addTool(tr("Eraser"), "eraserAction", QKeySequence(Qt::Key_E), ImageView::Tool::Eraser);
  fill_ = addTool(tr("Fill"), "fillAction", QKeySequence(Qt::Key_F), ImageView::Tool::Fill);
  brush_->setChecked(true);

  addSeparator();
  addWidget(new QLabel(tr(" Size "), this));
  size_ = new QSpinBox(this);
  size_->setObjectName("brushSize");
  size_->setRange(1, 1000);
  size_->setSuffix(" px");
  size_->setValue(view_->brushSize());
  addWidget(size_);
  connect(size_, &QSpinBox::valueChanged, view_, &ImageView::setBrushSize);

  addWidget(new QLabel(tr(" Opacity "), this));
  opacity_ = new QSlider(Qt::Horizontal, this);
  opacity_->setObjectName("opacitySlider");
  opacity_->setRange(0, 100);
  opacity_->setValue(static_cast<int>(view_->opacity() * 100));
  opacity_->setMaximumWidth(120);
  addWidget(opacity_);
  connect(opacity_, &QSlider::valueChanged, view_, [this](int v) { view_->setOpacity(v / 100.0); });

  addSeparator();
  undo_ = addAction(tr("Undo"));
  undo_->setObjectName("undoAction");
  undo_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Z));
  redo_ = addAction(tr("Redo"));
  redo_->setObjectName("redoAction");
  redo_->setShortcuts(
      {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
  connect(undo_, &QAction::triggered, view_, &ImageView::undo);
  connect(redo_, &QAction::triggered, view_, &ImageView::redo);
  fit_ = addAction(tr("Fit"));
  fit_->setObjectName("fitAction");
  fit_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  fit_->setToolTip(tr("Fit to window (Ctrl+0)"));
  connect(fit_, &QAction::triggered, view_, &ImageView::fitToWindow);
  connect(view_, &ImageView::labelsChanged, this, &LabelToolBar::updateUndoState);
  updateUndoState();
}

void LabelToolBar::updateUndoState() {
  const ImageDocument* d = view_->document();
  undo_->setEnabled(d && d->labels().canUndo());
  redo_->setEnabled(d && d->labels().canRedo());
}

}  // namespace revup::ui
