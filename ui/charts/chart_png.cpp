#include "ui/charts/chart_png.h"

#include <QApplication>
#include <QChart>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QImage>
#include <QLibraryInfo>
#include <QLineSeries>
#include <QPainter>
#include <QValueAxis>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/atomic_file.h"
#include "ui/charts/chart_style.h"
#include "ui/charts/chart_ticks.h"

namespace revup::ui {
namespace {

bool offscreenPlatformInstalled() {
  QStringList dirs = qEnvironmentVariable("QT_PLUGIN_PATH").split(':', Qt::SkipEmptyParts);
  dirs << QLibraryInfo::path(QLibraryInfo::PluginsPath);
  for (const auto& dir : dirs) {
    if (QFileInfo::exists(dir + "/platforms/libqoffscreen.so")) return true;
  }
  return false;
}

// A command-line tool on a server: Qt's notes about a missing runtime folder
// or display are noise there; real warnings still reach stderr.
void quietQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
  if (type == QtDebugMsg || type == QtInfoMsg || message.contains("XDG_RUNTIME_DIR")) return;
  std::fprintf(stderr, "qt: %s\n", qPrintable(message));
}

// Charts are QGraphicsWidgets: they need a QApplication, not just a core one.
bool ensureApplication() {
  if (qobject_cast<QApplication*>(QCoreApplication::instance())) return true;
  if (!canRenderCharts()) return false;
  qputenv("QT_QPA_PLATFORM", "offscreen");  // a command-line tool never shows a window
  qInstallMessageHandler(quietQtMessages);
  static int argc = 1;
  static char name[] = "revup-cli";
  static char* argv[] = {name, nullptr};
  // Never deleted: tearing it down during static destruction races Qt's own.
  new QApplication(argc, argv);
  return true;
}

}  // namespace

bool canRenderCharts() {
  return qobject_cast<QApplication*>(QCoreApplication::instance()) ||
         (!QCoreApplication::instance() && offscreenPlatformInstalled());
}

void writeChartPng(const PlotSpec& spec, const std::string& path, int width, int height) {
  if (!ensureApplication()) {
    throw std::runtime_error(path + ": cannot draw charts here (no Qt offscreen platform)");
  }
  auto* chart = new QChart();
  applyChartStyle(chart);
  chart->setTitle(QString::fromStdString(spec.title));
  auto* x = new QValueAxis(chart);
  x->setTitleText(QString::fromStdString(spec.x_label));
  auto* y = new QValueAxis(chart);
  y->setTitleText(QString::fromStdString(spec.y_label));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  double lo = 0.0, hi = 0.0;
  size_t points = 1;
  for (size_t k = 0; k < spec.series.size(); ++k) {
    auto* s = new QLineSeries(chart);
    s->setName(QString::fromStdString(spec.series[k].name));
    QPen pen(chartColour(static_cast<int>(k)));
    pen.setWidthF(2.0);
    s->setPen(pen);
    s->setPointsVisible(spec.series[k].y.size() < 40);  // a lone point has no line to show it
    for (size_t i = 0; i < spec.series[k].y.size(); ++i) {
      const double v = spec.series[k].y[i];
      s->append(static_cast<double>(i), v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    points = std::max(points, spec.series[k].y.size());
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  }
  // Whole-number ticks on x (an index), at most about ten of them.
  applyNiceTicks(x, 0, std::max<double>(1, points - 1), 11, true);
  applyNiceTicks(y, lo, hi, 8);

  QGraphicsScene scene;
  scene.addItem(chart);  // the scene owns the chart now
  chart->setGeometry(0, 0, width, height);
  QImage image(width, height, QImage::Format_RGB32);
  image.fill(Qt::white);
  {
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    scene.render(&painter, QRectF(0, 0, width, height), QRectF(0, 0, width, height));
  }
  write_atomically(path, [&](const std::string& tmp) {
    if (!image.save(QString::fromStdString(tmp), "PNG")) {
      throw std::runtime_error("the PNG encoder failed");
    }
  });
}

}  // namespace revup::ui
