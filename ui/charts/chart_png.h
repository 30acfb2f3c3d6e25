#pragma once
// The CLI's PNG plots drawn by Qt Charts offscreen: the same chart code and
// look as the GUI's panels (ui/charts/chart_style.h). Usable from a program without a
// window (revup-cli): a QApplication on the offscreen platform is made when
// none exists. Deliberately free of Qt types so that the CLI's sources, which
// include LibTorch, need no Qt headers.
#include <string>

#include "ui/charts/plot_spec.h"

namespace revup::ui {

// Whether charts can be drawn here: a QApplication exists, or none exists and
// Qt's offscreen platform plugin is installed (checked first: a missing
// platform is a fatal error inside Qt, not an exception).
bool canRenderCharts();

// Writes `spec` as a `width` x `height` PNG, atomically; throws
// std::runtime_error naming the file.
void writeChartPng(const PlotSpec& spec, const std::string& path, int width = 1200,
                   int height = 700);

}  // namespace revup::ui
