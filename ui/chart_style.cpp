#include "ui/chart_style.h"

#include <QFont>
#include <QLegend>

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

}  // namespace revup::ui
