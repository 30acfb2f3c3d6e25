#pragma once
// Line plots drawn with OpenCV: the PNG plots of builds without Qt Charts.
#include <string>

#include "ui/charts/plot_spec.h"

namespace revup {

// Writes atomically; throws std::runtime_error naming the file on failure.
void write_line_plot_png(const PlotSpec& spec, const std::string& path);

}  // namespace revup
