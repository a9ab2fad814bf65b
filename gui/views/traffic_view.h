// View (a): bandwidth over time per memory level as step curves, with each level's
// configured peak as a dashed line of the same colour.
#pragma once

#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <nlohmann/json.hpp>
#include <vector>

namespace attnsim::gui {

class TrafficView : public QChartView {
  Q_OBJECT
 public:
  explicit TrafficView(QWidget* parent = nullptr);
  // Replaces the curves with the result's; throws attnsim::Error when it has no series.
  void show_result(const nlohmann::ordered_json& result);
  void show_message(const QString& why);  // empties the chart, says why
  // For tests: the curve of level k (innermost first) and its x unit (microseconds).
  QLineSeries* curve(size_t k) const { return curves_.at(k); }
  size_t curves() const { return curves_.size(); }

 private:
  std::vector<QLineSeries*> curves_;
};

}  // namespace attnsim::gui
