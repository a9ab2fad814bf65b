#include "gui/views/timeline_view.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace attnsim::gui {

namespace {
constexpr int kLeftPx = 60, kRightPx = 16, kTopPx = 28, kBottomPx = 56;
}

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(400, 300);
  setAutoFillBackground(true);
  setPalette(QPalette(Qt::white));
  title_ = "Per-SM timeline: open a result made with 'attnsim run --detail'";
}

void TimelineView::show_result(const nlohmann::ordered_json& result) {
  tl_ = attnsim::timeline(result);
  title_ = QString::fromStdString("Per-" + tl_.lane_kind + " timeline — " + run_title(result));
  const int64_t tracks = std::max<int64_t>(1, tl_.lanes * tl_.slots_per_lane);
  caption_ = QString::fromStdString(tl_.note);
  if (tl_.per_unit_times) caption_ += QString("; colours change every wave of %1 units").arg(tracks);
  update();
}

QRectF TimelineView::plot_rect() const {
  return QRectF(kLeftPx, kTopPx, width() - kLeftPx - kRightPx, height() - kTopPx - kBottomPx);
}

QRectF TimelineView::bar_rect(size_t i) const {
  const TimelineBar& b = tl_.bars.at(i);
  const QRectF pr = plot_rect();
  const double lane_h = pr.height() / std::max<int64_t>(1, tl_.lanes);
  const double slot_h = lane_h / static_cast<double>(tl_.slots_per_lane);
  const double sx = pr.width() / std::max(tl_.kernel_s, 1e-30);
  return QRectF(pr.left() + b.start_s * sx, pr.top() + b.lane * lane_h + b.slot * slot_h,
                std::max(1.0, (b.end_s - b.start_s) * sx), std::max(1.0, slot_h * 0.85));
}

QColor TimelineView::bar_colour(size_t i) const {
  const int64_t tracks = std::max<int64_t>(1, tl_.lanes * tl_.slots_per_lane);
  return QColor(QRgb(kWaveRgb[static_cast<size_t>(tl_.bars.at(i).unit / tracks) % 6]));
}

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.drawText(QRect(0, 4, width(), kTopPx - 4), Qt::AlignHCenter | Qt::AlignTop, title_);
  if (tl_.bars.empty()) return;
  const QRectF pr = plot_rect();
  for (size_t i = 0; i < tl_.bars.size(); ++i) p.fillRect(bar_rect(i), bar_colour(i));
  p.setPen(Qt::darkGray);
  p.drawRect(pr);
  // Axes: time ticks in microseconds, lane numbers every few rows.
  p.setPen(Qt::black);
  const double span_us = tl_.kernel_s * 1e6;
  const double step = std::pow(10, std::floor(std::log10(std::max(span_us, 1e-9) / 2)));
  for (double t = 0; t <= span_us * 1.0001; t += step) {
    const double x = pr.left() + t / span_us * pr.width();
    p.drawLine(QPointF(x, pr.bottom()), QPointF(x, pr.bottom() + 4));
    p.drawText(QRectF(x - 40, pr.bottom() + 5, 80, 16), Qt::AlignHCenter, QString::number(t, 'g', 4));
  }
  p.drawText(QRectF(pr.left(), pr.bottom() + 20, pr.width(), 16), Qt::AlignHCenter, "time (µs) — " + caption_);
  const int64_t every = std::max<int64_t>(1, tl_.lanes / 12);
  const double lane_h = pr.height() / std::max<int64_t>(1, tl_.lanes);
  for (int64_t l = 0; l < tl_.lanes; l += every) {
    p.drawText(QRectF(0, pr.top() + l * lane_h - 2, kLeftPx - 6, 16), Qt::AlignRight,
               QString::fromStdString(tl_.lane_kind) + " " + QString::number(l));
  }
}

void TimelineView::show_message(const QString& why) {
  tl_ = Timeline{};
  title_ = why;
  caption_.clear();
  update();
}

}  // namespace attnsim::gui
