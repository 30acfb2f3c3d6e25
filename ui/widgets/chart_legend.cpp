#include "ui/widgets/chart_legend.h"

#include <QAbstractSeries>
#include <QChart>
#include <QLegend>
#include <QLineSeries>
#include <QPen>

namespace revup::ui {
namespace {

// A few characters that look like the series' line: solid, dashed or dotted.
QString lineSample(const QAbstractSeries* series) {
  const auto* line = qobject_cast<const QXYSeries*>(series);
  const QPen pen = line ? line->pen() : QPen();
  const char* glyphs = "\u2501\u2501\u2501";                 // ━━━
  if (pen.style() == Qt::DashLine) glyphs = "\u254d\u254d";  // ╍╍
  if (pen.style() == Qt::DotLine) glyphs = "\u2509\u2509";   // ┉┉
  return QString("<span style=\"color:%1\">%2</span>")
      .arg(pen.color().name(), QString::fromUtf8(glyphs));
}

}  // namespace

ChartLegend::ChartLegend(QChart* chart, QWidget* parent) : QLabel(parent) {
  setObjectName("chartLegend");
  chart->legend()->hide();
  setWordWrap(true);
  setTextFormat(Qt::RichText);
  setAlignment(Qt::AlignHCenter);
}

void ChartLegend::setSeries(const QList<QAbstractSeries*>& series) {
  for (auto* s : series_) {
    if (s) disconnect(s, nullptr, this, nullptr);
  }
  series_ = series;
  for (auto* s : series_) {
    connect(s, &QAbstractSeries::nameChanged, this, &ChartLegend::rebuild);
    connect(s, &QAbstractSeries::visibleChanged, this, &ChartLegend::rebuild);
    // A series deleted with its chart's reset must not be drawn from later.
    connect(s, &QObject::destroyed, this, [this, s] {
      series_.removeAll(s);
      rebuild();
    });
  }
  rebuild();
}

QStringList ChartLegend::names() const {
  QStringList out;
  for (const auto* s : series_) {
    if (s->isVisible()) out << s->name();
  }
  return out;
}

void ChartLegend::rebuild() {
  QStringList entries;
  for (const auto* s : series_) {
    if (!s->isVisible()) continue;
    // Non-breaking spaces inside an entry: lines break only between entries.
    entries << lineSample(s) + "&nbsp;" + s->name().toHtmlEscaped().replace(' ', "&nbsp;");
  }
  setText(entries.join(" &nbsp; "));
}

}  // namespace revup::ui
