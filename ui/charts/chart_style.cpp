#include "ui/charts/chart_style.h"

#include <QAbstractAxis>
#include <QApplication>
#include <QFont>
#include <QFontMetrics>
#include <QLegend>

#include <algorithm>

#include <iterator>

namespace revup::ui {

QColor chartColour(int k) {
  static const QColor colours[] = {{213, 94, 0},  {0, 114, 178},  {0, 158, 115},  {204, 121, 167},
                                   {230, 159, 0}, {86, 180, 233}, {120, 120, 120}};
  return colours[k % static_cast<int>(std::size(colours))];
}

void applyChartStyle(QChart* chart) {
  QFont title = chart->titleFont();
  title.setPointSizeF(title.pointSizeF() * 1.15);
  title.setBold(true);
  chart->setTitleFont(title);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(8, 8, 8, 8));
  chart->setBackgroundRoundness(0);
}

int chartMinimumHeight(const QChart* chart, int yTicks) {
  QFont labels = QApplication::font(), axisTitle = labels;
  int yTitle = 0;  // the longest vertical axis title, which runs along the plot
  for (const auto* axis : chart->axes()) {
    if (axis->orientation() == Qt::Horizontal) {
      labels = axis->labelsFont();
      axisTitle = axis->titleFont();
    } else {
      yTitle =
          std::max(yTitle, QFontMetrics(axis->titleFont()).horizontalAdvance(axis->titleText()));
    }
  }
  const int label = QFontMetrics(labels).height();
  const int title = chart->title().isEmpty() ? 0 : QFontMetrics(chart->titleFont()).height();
  const int xAxis = label + QFontMetrics(axisTitle).height();
  // A y label takes a line; half a line between two keeps them apart.
  const int plot = std::max(std::max(2, yTicks) * label * 3 / 2, yTitle + label);
  // The chart's margins, and the gaps Qt Charts 6.4 leaves between title,
  // plot, tick labels and axis title and around its background (measured
  // 43 px with the offscreen platform's fonts: the loss chart's plot came out
  // 3 px short of `plot` with 40).
  const QMargins m = chart->margins();
  return m.top() + m.bottom() + title + xAxis + plot + 44;
}

}  // namespace revup::ui
