#pragma once
// What a line plot shows, free of any drawing library: the CLI's reports
// (bench, demo) fill it in, and ui/charts/plot.h draws it with Qt Charts
// (the GUI panels' look) or, in builds without Qt, OpenCV.
#include <string>
#include <vector>

namespace revup {

struct PlotSeries {
  std::string name;
  std::vector<double> y;  // x is the index
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
};

}  // namespace revup
