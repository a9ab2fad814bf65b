#include "gui/views/roofline_view.h"

#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <algorithm>
#include <cmath>

#include "sim/plot/plot_data.h"

namespace attnsim::gui {

RooflineView::RooflineView(QWidget* parent) : QChartView(new QChart(), parent) {
  setRenderHint(QPainter::Antialiasing, true);
  chart()->setTitle("Roofline: open a result or run a simulation");
}

void RooflineView::show_result(const nlohmann::ordered_json& result) {
  const Roofline r = attnsim::roofline(result);
  QChart* c = chart();
  c->removeAllSeries();
  for (QAbstractAxis* a : c->axes()) c->removeAxis(a), delete a;
  const double peak = r.peak_flops_per_s / 1e12;
  double lo = 1e30, hi = 0;
  for (const RooflineLevel& l : r.levels) {
    const double ridge = r.peak_flops_per_s / l.bytes_per_s;
    lo = std::min({lo, ridge, l.intensity_flop_per_byte > 0 ? l.intensity_flop_per_byte : lo});
    hi = std::max({hi, ridge, l.intensity_flop_per_byte});
  }
  const double x0 = std::pow(10, std::floor(std::log10(lo)) - 1), x1 = std::pow(10, std::ceil(std::log10(hi)) + 1);
  auto* x = new QLogValueAxis(), *y = new QLogValueAxis();
  x->setTitleText("arithmetic intensity (executed FLOP per byte at the level)");
  y->setTitleText("TFLOP/s");
  x->setLabelFormat("%g");
  y->setLabelFormat("%g");
  x->setRange(x0, x1);
  y->setRange(peak / 1e4, peak * 3);
  c->addAxis(x, Qt::AlignBottom);
  c->addAxis(y, Qt::AlignLeft);
  auto add = [&](QAbstractSeries* s) {
    c->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  };
  auto* roof = new QLineSeries();
  roof->setName(QString("matrix peak %1 TFLOP/s").arg(peak, 0, 'f', 1));
  roof->append(x0, peak);
  roof->append(x1, peak);
  roof->setPen(QPen(Qt::black, 2));
  add(roof);
  points_.clear();
  for (size_t k = 0; k < r.levels.size(); ++k) {
    const RooflineLevel& l = r.levels[k];
    auto* ceil = new QLineSeries();
    ceil->setName(QString::fromStdString(l.level) + QString(" %1 GB/s").arg(l.bytes_per_s / 1e9, 0, 'f', 0));
    ceil->append(x0, x0 * l.bytes_per_s / 1e12);
    ceil->append(r.peak_flops_per_s / l.bytes_per_s, peak);
    QPen pen(QColor(QRgb(kLevelRgb[k % 5])), 2, Qt::DashLine);
    ceil->setPen(pen);
    add(ceil);
    auto* run = new QScatterSeries();
    run->setName("run vs " + QString::fromStdString(l.level));
    run->setMarkerSize(14);
    run->setColor(QColor(QRgb(kLevelRgb[k % 5])));
    run->setBorderColor(Qt::black);
    if (l.intensity_flop_per_byte > 0) run->append(l.intensity_flop_per_byte, r.executed_flops_per_s / 1e12);
    points_.push_back(run);
  }
  for (QScatterSeries* s : points_) add(s);
  c->setTitle(QString::fromStdString("Roofline — " + run_title(result) + " (" + r.bound + "-bound)"));
}

void RooflineView::show_message(const QString& why) {
  chart()->removeAllSeries();
  for (QAbstractAxis* a : chart()->axes()) chart()->removeAxis(a), delete a;
  points_.clear();
  chart()->setTitle(why);
}

}  // namespace attnsim::gui
