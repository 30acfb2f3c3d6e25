#include "ui/charts/plot_opencv.h"

#include <algorithm>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "core/atomic_file.h"

namespace revup {
namespace {
const std::vector<cv::Scalar> kColors = {{40, 40, 220},  {200, 120, 30}, {40, 160, 40},
                                         {160, 60, 160}, {30, 150, 220}, {120, 120, 120}};
}

void write_line_plot_png(const PlotSpec& spec, const std::string& path) {
  const int width = 1200, height = 700, left = 90, right = 260, top = 50, bottom = 70;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  double ymax = 0;
  size_t xmax = 1;
  for (const auto& s : spec.series) {
    for (double v : s.y) ymax = std::max(ymax, v);
    xmax = std::max(xmax, s.y.size());
  }
  if (ymax <= 0) ymax = 1;
  ymax *= 1.05;
  const int pw = width - left - right, ph = height - top - bottom;
  auto px = [&](double i) {
    return left + static_cast<int>(i / std::max<double>(1, xmax - 1) * pw);
  };
  auto py = [&](double v) { return top + ph - static_cast<int>(v / ymax * ph); };
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  for (int t = 0; t <= 5; ++t) {
    const double v = ymax * t / 5;
    cv::line(img, {left, py(v)}, {left + pw, py(v)}, {225, 225, 225}, 1);
    char label[32];
    std::snprintf(label, sizeof label, "%.0f", v);
    cv::putText(img, label, {10, py(v) + 5}, font, 0.45, {60, 60, 60}, 1, cv::LINE_AA);
  }
  cv::rectangle(img, {left, top}, {left + pw, top + ph}, {0, 0, 0}, 1);
  cv::putText(img, spec.title, {left, 24}, font, 0.7, {0, 0, 0}, 1, cv::LINE_AA);
  cv::putText(img, spec.x_label, {left + pw / 2 - 120, height - 25}, font, 0.5, {0, 0, 0}, 1,
              cv::LINE_AA);
  cv::putText(img, spec.y_label, {10, top - 6}, font, 0.5, {0, 0, 0}, 1, cv::LINE_AA);
  for (size_t k = 0; k < spec.series.size(); ++k) {
    const auto& s = spec.series[k];
    const auto color = kColors[k % kColors.size()];
    for (size_t i = 1; i < s.y.size(); ++i) {
      cv::line(img, {px(i - 1.0), py(s.y[i - 1])}, {px(static_cast<double>(i)), py(s.y[i])}, color,
               2, cv::LINE_AA);
    }
    const int ly = top + 20 + static_cast<int>(k) * 24;
    cv::line(img, {left + pw + 15, ly - 5}, {left + pw + 45, ly - 5}, color, 3);
    cv::putText(img, s.name, {left + pw + 52, ly}, font, 0.5, {0, 0, 0}, 1, cv::LINE_AA);
  }
  write_atomically(path, [&](const std::string& tmp) {
    if (!cv::imwrite(tmp + ".png", img)) throw std::runtime_error("PNG encoder failed");
    std::rename((tmp + ".png").c_str(), tmp.c_str());
  });
}

}  // namespace revup
