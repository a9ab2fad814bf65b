#include "gui/views/compare_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QVBoxLayout>
#include <QtCharts/QValueAxis>
#include <algorithm>

#include "sim/plot/plot_data.h"

namespace attnsim::gui {

namespace {

using json = nlohmann::ordered_json;

struct Row {
  QString name;
  json a, b;
};

QString cell(const json& v) {
  if (v.is_number()) return QString::number(v.get<double>(), 'g', 5);
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  return "n/a";
}

json at(const json& r, const std::string& section, const std::string& key) {
  return r.contains(section) && r[section].contains(key) ? r[section][key] : json();
}

}  // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  auto* v = new QVBoxLayout(this);
  table_ = new QTableWidget(0, 4, this);
  table_->setHorizontalHeaderLabels({"", "A", "B", "B / A"});
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  v->addWidget(table_, 2);
  auto* h = new QHBoxLayout();
  left_ = new TrafficView(this);
  right_ = new TrafficView(this);
  h->addWidget(left_);
  h->addWidget(right_);
  v->addLayout(h, 3);
}

void CompareView::show_results(const json& a, const json& b) {
  left_->show_result(a);
  right_->show_result(b);
  left_->chart()->setTitle("A: " + QString::fromStdString(run_title(a)));
  right_->chart()->setTitle("B: " + QString::fromStdString(run_title(b)));
  // One bandwidth scale for both, so equal heights mean equal GB/s.
  auto y_axis = [](TrafficView* t) { return static_cast<QValueAxis*>(t->chart()->axes(Qt::Vertical).at(0)); };
  const double y = std::max(y_axis(left_)->max(), y_axis(right_)->max());
  for (TrafficView* t : {left_, right_}) {
    y_axis(t)->setRange(0, y);
    y_axis(t)->applyNiceNumbers();
  }
  std::vector<Row> rows = {{"latency (µs)", at(a, "timing", "latency_us"), at(b, "timing", "latency_us")},
                           {"achieved TFLOP/s", at(a, "timing", "achieved_tflops"), at(b, "timing", "achieved_tflops")},
                           {"bound", at(a, "timing", "bound"), at(b, "timing", "bound")}};
  if (a.contains("traffic")) {
    for (const auto& [level, t] : a["traffic"].items()) {
      const json tb = b.contains("traffic") && b["traffic"].contains(level) ? b["traffic"][level] : json::object();
      auto bytes = [](const json& t) {
        return t.contains("read_bytes") ? json(t["read_bytes"].get<double>() + t["write_bytes"].get<double>()) : json();
      };
      rows.push_back({QString::fromStdString(level + " bytes"), bytes(t), bytes(tb)});
      rows.push_back({QString::fromStdString(level + " utilisation"), t.value("utilization", json()), tb.value("utilization", json())});
    }
  }
  table_->setRowCount(static_cast<int>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int r = static_cast<int>(i);
    table_->setItem(r, 0, new QTableWidgetItem(rows[i].name));
    table_->setItem(r, 1, new QTableWidgetItem(cell(rows[i].a)));
    table_->setItem(r, 2, new QTableWidgetItem(cell(rows[i].b)));
    const bool ratio = rows[i].a.is_number() && rows[i].b.is_number() && rows[i].a.get<double>() != 0;
    table_->setItem(r, 3, new QTableWidgetItem(ratio ? QString::number(rows[i].b.get<double>() / rows[i].a.get<double>(), 'f', 3) : ""));
  }
}

}  // namespace attnsim::gui
