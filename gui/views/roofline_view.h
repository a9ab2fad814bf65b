// View (d): hierarchical roofline (log-log): the matrix peak, one bandwidth ceiling per
// memory level, and the run placed once per level.
#pragma once

#include <QtCharts/QChartView>
#include <QtCharts/QScatterSeries>
#include <nlohmann/json.hpp>
#include <vector>

namespace attnsim::gui {

class RooflineView : public QChartView {
  Q_OBJECT
 public:
  explicit RooflineView(QWidget* parent = nullptr);
  void show_result(const nlohmann::ordered_json& result);
  void show_message(const QString& why);
  // For tests: the run placed against each level (one point each, in the level's colour).
  const std::vector<QScatterSeries*>& run_points() const { return points_; }

 private:
  std::vector<QScatterSeries*> points_;
};

}  // namespace attnsim::gui
