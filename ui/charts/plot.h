#pragma once
// A PlotSpec as a PNG, by whatever this build can draw with: Qt Charts
// offscreen (the GUI panels' look) where the GUI is built and a platform is
// there, else OpenCV, else nothing (said on stderr).
#include <string>

#include "ui/charts/plot_spec.h"

namespace revup {

// true when written (atomically; a write failure throws naming the file).
bool write_plot(const PlotSpec& spec, const std::string& path);
// What draws write_plot's PNGs here: "Qt Charts", "OpenCV" or "" (none).
std::string plot_renderer();

}  // namespace revup
