#pragma once
// Line plots written as PNG (OpenCV), for the CLI's reports. The GUI's charts
// will take this job over when ui/ exists.
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

// Writes atomically; throws std::runtime_error naming the file on failure.
void write_line_plot_png(const PlotSpec& spec, const std::string& path);

}  // namespace revup
