#include "ui/charts/plot.h"

#include <iostream>

#if REVUP_CHARTS_QT
#include "ui/charts/chart_png.h"
#endif
#if REVUP_CHARTS_OPENCV
#include "ui/charts/plot_opencv.h"
#endif

namespace revup {

std::string plot_renderer() {
#if REVUP_CHARTS_QT
  if (ui::canRenderCharts()) return "Qt Charts";
#endif
  return REVUP_CHARTS_OPENCV ? "OpenCV" : "";
}

bool write_plot(const PlotSpec& spec, const std::string& path) {
#if REVUP_CHARTS_QT
  if (ui::canRenderCharts()) {
    ui::writeChartPng(spec, path);
    return true;
  }
#endif
#if REVUP_CHARTS_OPENCV
  write_line_plot_png(spec, path);
  return true;
#else
  (void)spec;
  std::cerr << "note: " << path
            << " not written: this build has no PNG plots (neither Qt Charts nor OpenCV)\n";
  return false;
#endif
}

}  // namespace revup
