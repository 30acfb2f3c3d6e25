#pragma once
// The class palette: each class with its colour swatch; add, rename (double
// click or the button), recolour (QColorDialog), and pick the class the brush
// paints. The table itself lives in the ImageDocument.
#include <QWidget>

class QListWidget;
class QPushButton;

namespace revup::ui {

class ImageDocument;

class ClassPalette : public QWidget {
  Q_OBJECT

 public:
  explicit ClassPalette(QWidget* parent = nullptr);
  void setDocument(ImageDocument* document);  // not owned
  // Rebuilds the list from the document's classes.
  void refresh();
  int activeClass() const;
  void setActiveClass(int id);

  // What the buttons do, callable without dialogs (tests, scripts).
  int addClass(const QString& name);
  void renameClass(int id, const QString& name);
  void recolorClass(int id, const QColor& color);

 Q_SIGNALS:
  void activeClassChanged(int id);
  // Names or colours changed (the view redraws).
  void classesChanged();

 private:
  void onAdd();
  void onRename();
  void onRecolor();

  ImageDocument* document_ = nullptr;
  QListWidget* list_;
  QPushButton *add_, *rename_, *recolor_;
};

}  // namespace revup::ui
