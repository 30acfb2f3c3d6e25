#pragma once
// A chart's legend as a word-wrapping label under it. Qt Charts' own legend
// lays its entries out in one row and elides every name when the row is too
// narrow ("RevUp forw..."); a docked panel is often that narrow. Here each
// entry (a line sample in the series' colour and dash, then the full name)
// stays whole and the entries wrap onto as many lines as the width needs.
#include <QLabel>
#include <QList>

QT_BEGIN_NAMESPACE
class QAbstractSeries;
class QChart;
QT_END_NAMESPACE

namespace revup::ui {

class ChartLegend : public QLabel {
  Q_OBJECT

 public:
  // Hides `chart`'s own legend; this one shows the series given to setSeries.
  explicit ChartLegend(QChart* chart, QWidget* parent = nullptr);

  // The series listed, in this order; a hidden series is left out. Follows
  // their names and visibility from then on.
  void setSeries(const QList<QAbstractSeries*>& series);
  // The names listed now, as shown (for tests).
  QStringList names() const;

 private:
  void rebuild();

  QList<QAbstractSeries*> series_;
};

}  // namespace revup::ui
