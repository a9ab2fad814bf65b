// attnsim-gui's window: the five views as tabs, the run form docked beside them, and a
// File menu to open results (A, and B for the side-by-side view) and save the views as PNG.
#pragma once

#include <QMainWindow>
#include <QTabWidget>
#include <nlohmann/json.hpp>

#include "gui/app/run_form.h"
#include "gui/views/compare_view.h"
#include "gui/views/mask_view.h"
#include "gui/views/roofline_view.h"
#include "gui/views/timeline_view.h"
#include "gui/views/traffic_view.h"

namespace attnsim::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  // Shows a result file in every view (slot 0 = A) or as the B of the comparison (slot 1).
  // Returns "" or what could not be shown (e.g. "mask: ... rerun with --detail").
  QString open_result(const QString& path, int slot = 0);
  // Renders every view at width x height into DIR/<view>.png; returns the files written.
  QStringList save_views(const QString& dir, int width = 1000, int height = 620);

  TrafficView* traffic() const { return traffic_; }
  MaskView* mask() const { return mask_; }
  TimelineView* timeline() const { return timeline_; }
  RooflineView* roofline() const { return roofline_; }
  CompareView* compare() const { return compare_; }
  RunForm* run_form() const { return form_; }
  QTabWidget* tabs() const { return tabs_; }

 private:
  void show_a();
  QTabWidget* tabs_;
  TrafficView* traffic_;
  MaskView* mask_;
  TimelineView* timeline_;
  RooflineView* roofline_;
  CompareView* compare_;
  RunForm* form_;
  nlohmann::ordered_json a_, b_;
};

}  // namespace attnsim::gui
