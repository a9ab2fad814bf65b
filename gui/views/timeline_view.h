// View (c): per-SM (per-TensorCore) timeline: one row per lane, a bar per work unit (or per
// merged group of units when the result's timeline is aggregated), coloured by wave so
// waves and the ragged tail of unequal units show.
#pragma once

#include <QWidget>
#include <nlohmann/json.hpp>

#include "sim/plot/plot_data.h"

namespace attnsim::gui {

class TimelineView : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineView(QWidget* parent = nullptr);
  void show_result(const nlohmann::ordered_json& result);
  void show_message(const QString& why);
  // For tests: the rectangle bar i is drawn in, and its colour.
  QRectF bar_rect(size_t i) const;
  QColor bar_colour(size_t i) const;
  const Timeline& timeline() const { return tl_; }
  QString caption() const { return caption_; }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QRectF plot_rect() const;
  Timeline tl_;
  QString title_, caption_;
};

}  // namespace attnsim::gui
