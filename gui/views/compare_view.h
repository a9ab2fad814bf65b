// View (e): two runs side by side: a table of the numbers `attnsim compare` reads (latency,
// throughput, bound, bytes and utilisation per level, B / A), and both traffic charts on
// one bandwidth scale.
#pragma once

#include <QTableWidget>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "gui/views/traffic_view.h"

namespace attnsim::gui {

class CompareView : public QWidget {
  Q_OBJECT
 public:
  explicit CompareView(QWidget* parent = nullptr);
  void show_results(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);
  QTableWidget* table() const { return table_; }
  TrafficView* left() const { return left_; }
  TrafficView* right() const { return right_; }

 private:
  QTableWidget* table_;
  TrafficView *left_, *right_;
};

}  // namespace attnsim::gui
