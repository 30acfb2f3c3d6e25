// The CLI's plots come from Qt Charts: a chart with every series drawn in its
// colour, written atomically, and a clear error for a path that cannot be written.
#include <gtest/gtest.h>

#include <QColor>
#include <QImage>
#include <QTemporaryDir>

#include <filesystem>

#include "ui/charts/chart_png.h"
#include "ui/charts/chart_style.h"

namespace revup::ui {
namespace {

int pixelsNear(const QImage& image, const QColor& colour) {
  int count = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const QColor c = image.pixelColor(x, y);
      count += std::abs(c.red() - colour.red()) + std::abs(c.green() - colour.green()) +
                   std::abs(c.blue() - colour.blue()) <
               30;
    }
  }
  return count;
}

TEST(ChartPng, DrawsEverySeriesInItsColour) {
  ASSERT_TRUE(canRenderCharts());
  QTemporaryDir dir;
  const std::string path = dir.filePath("plot.png").toStdString();
  PlotSpec spec{"Memory after each block", "block", "MB", {}};
  spec.series.push_back({"RevUp", {5, 5, 5, 5, 5, 5}});
  spec.series.push_back({"ResNet+Fixup", {5, 10, 15, 20, 25, 30}});
  writeChartPng(spec, path, 800, 500);
  const QImage image(QString::fromStdString(path));
  ASSERT_FALSE(image.isNull());
  EXPECT_EQ(image.size(), QSize(800, 500));
  EXPECT_GT(pixelsNear(image, chartColour(0)), 200);  // the first series' line and legend
  EXPECT_GT(pixelsNear(image, chartColour(1)), 200);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path().toStdString()),
                          std::filesystem::directory_iterator()),
            1);  // no temporary left beside it
}

TEST(ChartPng, AnUnwritablePathIsAnErrorNamingIt) {
  PlotSpec spec{"t", "x", "y", {{"s", {1, 2}}}};
  try {
    writeChartPng(spec, "/nonexistent-dir/plot.png");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/plot.png"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace revup::ui
