#include "gui/views/traffic_view.h"

#include <QtCharts/QValueAxis>
#include <algorithm>

#include "sim/plot/plot_data.h"

namespace attnsim::gui {

TrafficView::TrafficView(QWidget* parent) : QChartView(new QChart(), parent) {
  setRenderHint(QPainter::Antialiasing, false);  // crisp steps; tests read pixels on them
  chart()->setTitle("Memory traffic over time: open a result or run a simulation");
}

void TrafficView::show_result(const nlohmann::ordered_json& result) {
  const std::vector<LevelSeries> levels = traffic_series(result);
  QChart* c = chart();
  c->removeAllSeries();
  for (QAbstractAxis* a : c->axes()) c->removeAxis(a), delete a;
  curves_.clear();
  auto* x = new QValueAxis(), *y = new QValueAxis();
  x->setTitleText("time (µs)");
  y->setTitleText("bandwidth (GB/s)");
  c->addAxis(x, Qt::AlignBottom);
  c->addAxis(y, Qt::AlignLeft);
  double t_end_us = 0, y_max = 0;
  for (size_t k = 0; k < levels.size(); ++k) {
    const LevelSeries& l = levels[k];
    const QColor colour(QRgb(kLevelRgb[k % 5]));
    auto* s = new QLineSeries();
    s->setName(QString::fromStdString(l.level));
    // Each value is the average over its step: draw it as a flat segment across the step.
    for (size_t i = 0; i < l.bytes_per_s.size(); ++i) {
      const double t0 = i * l.step_s * 1e6, t1 = (i + 1) * l.step_s * 1e6, v = l.bytes_per_s[i] / 1e9;
      s->append(t0, v);
      s->append(t1, v);
      y_max = std::max(y_max, v);
    }
    t_end_us = std::max(t_end_us, l.bytes_per_s.size() * l.step_s * 1e6);
    QPen pen(colour);
    pen.setWidth(2);
    s->setPen(pen);
    c->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
    curves_.push_back(s);
  }
  for (size_t k = 0; k < levels.size(); ++k) {
    auto* peak = new QLineSeries();
    const double v = levels[k].configured_bytes_per_s / 1e9;
    peak->setName(QString::fromStdString(levels[k].level + " peak"));
    peak->append(0, v);
    peak->append(t_end_us, v);
    QPen pen(QColor(QRgb(kLevelRgb[k % 5])));
    pen.setStyle(Qt::DashLine);
    peak->setPen(pen);
    c->addSeries(peak);
    peak->attachAxis(x);
    peak->attachAxis(y);
    y_max = std::max(y_max, v);
  }
  x->setRange(0, t_end_us);
  y->setRange(0, y_max * 1.08);
  x->applyNiceNumbers();
  y->applyNiceNumbers();
  x->setLabelFormat("%g");
  y->setLabelFormat("%g");
  c->setTitle(QString::fromStdString("Memory traffic over time — " + run_title(result)));
}

void TrafficView::show_message(const QString& why) {
  chart()->removeAllSeries();
  for (QAbstractAxis* a : chart()->axes()) chart()->removeAxis(a), delete a;
  curves_.clear();
  chart()->setTitle(why);
}

}  // namespace attnsim::gui
