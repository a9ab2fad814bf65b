#include "gui/app/main_window.h"

#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QMenuBar>
#include <QStatusBar>
#include <functional>

#include "sim/core/error.h"
#include "sim/plot/plot_data.h"

namespace attnsim::gui {

namespace {

// Runs one view's show_result; a result it cannot draw leaves the view saying why.
QString try_show(const char* view, const std::function<void()>& show, const std::function<void(const QString&)>& explain) {
  try {
    show();
    return {};
  } catch (const std::exception& e) {  // attnsim::Error or a malformed section
    const QString why = QString(view) + ": " + e.what();
    explain(why);
    return why;
  }
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("attnsim");
  tabs_ = new QTabWidget(this);
  traffic_ = new TrafficView();
  mask_ = new MaskView();
  timeline_ = new TimelineView();
  roofline_ = new RooflineView();
  compare_ = new CompareView();
  // Object names name the PNGs save_views writes.
  traffic_->setObjectName("traffic");
  mask_->setObjectName("mask");
  timeline_->setObjectName("timeline");
  roofline_->setObjectName("roofline");
  compare_->setObjectName("compare");
  tabs_->addTab(traffic_, "Traffic");
  tabs_->addTab(mask_, "Mask");
  tabs_->addTab(timeline_, "Timeline");
  tabs_->addTab(roofline_, "Roofline");
  tabs_->addTab(compare_, "A | B");
  setCentralWidget(tabs_);
  form_ = new RunForm();
  auto* dock = new QDockWidget("Run a simulation", this);
  dock->setWidget(form_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  connect(form_, &RunForm::finished, this, [this](const QString& path) { open_result(path); });
  connect(form_, &RunForm::failed, this, [this](const QString& m) { statusBar()->showMessage(m); });
  connect(form_, &RunForm::cancelled, this, [this] { statusBar()->showMessage("run cancelled"); });
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Open result (A)…", this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Result (attnsim run --json --detail)", {}, "JSON (*.json)");
    if (!f.isEmpty()) open_result(f, 0);
  });
  file->addAction("Open result &B (side by side)…", this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Second result", {}, "JSON (*.json)");
    if (!f.isEmpty()) open_result(f, 1);
  });
  file->addAction("&Save views as PNG…", this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, "Folder for the PNGs");
    if (!d.isEmpty()) statusBar()->showMessage("saved " + save_views(d).join(", "));
  });
  file->addAction("&Quit", this, &QWidget::close);
  resize(1400, 800);
}

QString MainWindow::open_result(const QString& path, int slot) {
  nlohmann::ordered_json r;
  try {
    r = read_result_file(path.toStdString());
  } catch (const Error& e) {
    statusBar()->showMessage(e.what());
    return e.what();
  }
  (slot == 0 ? a_ : b_) = std::move(r);
  QStringList problems;
  if (slot == 0) {
    for (const QString& p :
         {try_show("traffic", [&] { traffic_->show_result(a_); }, [&](const QString& w) { traffic_->show_message(w); }),
          try_show("mask", [&] { mask_->show_result(a_); }, [&](const QString& w) { mask_->show_message(w); }),
          try_show("timeline", [&] { timeline_->show_result(a_); }, [&](const QString& w) { timeline_->show_message(w); }),
          try_show("roofline", [&] { roofline_->show_result(a_); }, [&](const QString& w) { roofline_->show_message(w); })}) {
      if (!p.isEmpty()) problems << p;
    }
  }
  if (!a_.empty() && !b_.empty()) {
    const QString p = try_show("A | B", [&] { compare_->show_results(a_, b_); }, [](const QString&) {});
    if (!p.isEmpty()) problems << p;
  }
  const QString msg = problems.join("; ");
  statusBar()->showMessage(msg.isEmpty() ? "opened " + path : msg);
  return msg;
}

QStringList MainWindow::save_views(const QString& dir, int width, int height) {
  QStringList written;
  for (int i = 0; i < tabs_->count(); ++i) {
    // Out of the tab stack for a moment, so the view takes exactly the asked size.
    QWidget* w = tabs_->widget(i);
    const QString label = tabs_->tabText(i);
    tabs_->removeTab(i);
    w->setParent(nullptr);
    w->setAttribute(Qt::WA_DontShowOnScreen, true);
    w->resize(width, height);
    w->show();
    const QString file = QDir(dir).filePath(w->objectName() + ".png");
    if (w->grab().save(file, "PNG")) written << file;
    w->hide();
    w->setAttribute(Qt::WA_DontShowOnScreen, false);
    tabs_->insertTab(i, w, label);
  }
  tabs_->setCurrentIndex(0);
  return written;
}

}  // namespace attnsim::gui
