#pragma once
// One look for every chart RevUp draws, on screen and in the CLI's PNGs:
// the colour-blind-safe palette (Okabe-Ito) the memory, metrics and
// reconstruction panels use, and the same fonts and margins.
#include <QChart>
#include <QColor>

namespace revup::ui {

// The k-th series colour (Okabe-Ito, cycling): 0 vermillion, 1 blue,
// 2 bluish green, 3 reddish purple, 4 orange, 5 sky blue, 6 grey.
QColor chartColour(int k);

// Title font, legend placement and margins shared by all charts.
void applyChartStyle(QChart* chart);

// The least height `chart` needs with its axes in place to show its title,
// the x axis's labels and title, and `yTicks` tick labels on the y axis with
// room between them (less, and Qt Charts writes "..." for each label). The
// legend, when drawn outside the chart, is not included.
int chartMinimumHeight(const QChart* chart, int yTicks);

}  // namespace revup::ui
