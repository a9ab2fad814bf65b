// View (b): the block mask of batch 0, head 0 as a heatmap: blue computed, orange computed
// with an element mask (partial), grey skipped. Long runs arrive downsampled (the result's
// mask_grid, at most 128 cells a side) and the caption says so.
#pragma once

#include <QWidget>
#include <nlohmann/json.hpp>

#include "sim/plot/plot_data.h"

namespace attnsim::gui {

class MaskView : public QWidget {
  Q_OBJECT
 public:
  explicit MaskView(QWidget* parent = nullptr);
  void show_result(const nlohmann::ordered_json& result);
  void show_message(const QString& why);
  // For tests: where cell (row, col) is drawn, and the caption under the grid.
  QRect cell_rect(int64_t row, int64_t col) const;
  QString caption() const { return caption_; }
  const MaskGrid& grid() const { return grid_; }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QRect grid_rect() const;
  MaskGrid grid_;
  QString title_, caption_;
};

}  // namespace attnsim::gui
