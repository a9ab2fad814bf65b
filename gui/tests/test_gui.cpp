// Headless GUI tests: open the fixture results, render every view to PNG and check that the
// pixels show the data (curves where the series values are, mask cells in their classes'
// colours, timeline bars where their units ran, the roofline points), compare two runs, run
// and cancel a simulation from the form. ATTNSIM_SCREENSHOT_DIR=docs/gui keeps the PNGs as
// the screenshots of docs/gui.md (`make gui-screenshots`).
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QImage>
#include <QTemporaryDir>
#include <QTimer>
#include <QtCharts/QValueAxis>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "gui/app/main_window.h"
#include "sim/plot/plot_data.h"

using namespace attnsim::gui;
using nlohmann::ordered_json;

namespace {

const QString kFixtures = QString(ATTNSIM_TEST_DIR) + "/fixtures/results/";
const QString kGpu = kFixtures + "h100-sxm-8k-causal.json", kTpu = kFixtures + "tpu-v5e-8k-causal.json";

QString screenshot_dir() {
  static QTemporaryDir tmp;
  const QString env = qEnvironmentVariable("ATTNSIM_SCREENSHOT_DIR");
  if (env.isEmpty()) return tmp.path();
  QDir().mkpath(env);
  return env;
}

// Lays a widget out at a fixed size and renders it.
QImage render(QWidget* w, int width = 1000, int height = 620) {
  w->setAttribute(Qt::WA_DontShowOnScreen, true);
  w->resize(width, height);
  w->show();
  QCoreApplication::processEvents();
  return w->grab().toImage().convertToFormat(QImage::Format_RGB32);
}

int colour_distance(QRgb a, QRgb b) {
  return std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) + std::abs(qBlue(a) - qBlue(b));
}

// Whether a pixel within `radius` of p has (nearly) colour c.
bool near_colour(const QImage& img, QPoint p, QRgb c, int radius = 2) {
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const QPoint q = p + QPoint(dx, dy);
      if (img.valid(q) && colour_distance(img.pixel(q), c) < 60) return true;
    }
  }
  return false;
}

size_t distinct_colours(const QImage& img) {
  std::set<QRgb> s;
  for (int y = 0; y < img.height(); y += 2) {
    for (int x = 0; x < img.width(); x += 2) s.insert(img.pixel(x, y));
  }
  return s.size();
}

ordered_json load(const QString& path) { return attnsim::read_result_file(path.toStdString()); }

// Waits for one of the form's outcome signals; returns "finished", "failed", "cancelled" or "timeout".
QString wait_for(RunForm* f, int timeout_ms, QString* detail = nullptr) {
  QEventLoop loop;
  QString outcome = "timeout";
  QObject::connect(f, &RunForm::finished, &loop, [&](const QString& p) { outcome = "finished"; if (detail) *detail = p; loop.quit(); });
  QObject::connect(f, &RunForm::failed, &loop, [&](const QString& m) { outcome = "failed"; if (detail) *detail = m; loop.quit(); });
  QObject::connect(f, &RunForm::cancelled, &loop, [&] { outcome = "cancelled"; loop.quit(); });
  QTimer::singleShot(timeout_ms, &loop, &QEventLoop::quit);
  loop.exec();
  return outcome;
}

}  // namespace

TEST_CASE("gui: the traffic curves' pixels follow the series values", "[gui]") {
  TrafficView view;
  TrafficView* v = &view;
  v->show_result(load(kGpu));
  const QImage img = render(v);
  REQUIRE(img.size() == QSize(1000, 620));
  REQUIRE(img.save(QDir(screenshot_dir()).filePath("traffic.png")));
  const std::vector<attnsim::LevelSeries> levels = attnsim::traffic_series(load(kGpu));
  REQUIRE(v->curves() == levels.size());
  const double y_max = static_cast<QValueAxis*>(v->chart()->axes(Qt::Vertical).at(0))->max();
  for (size_t k = 0; k < 2; ++k) {  // smem and l2: the two curves that never share pixels with another
    INFO("level " << levels[k].level);
    const QRgb colour = attnsim::kLevelRgb[k];
    int on = 0, off = 0, samples = 0;
    const auto& s = levels[k].bytes_per_s;
    for (size_t i = 5; i + 5 < s.size(); i += 7) {
      const double t_us = (i + 0.5) * levels[k].step_s * 1e6, gbs = s[i] / 1e9;
      const QPoint at = v->mapFromScene(v->chart()->mapToPosition(QPointF(t_us, gbs), v->curve(k)));
      // The same time, a fifth of the axis higher or lower: no curve of this colour there.
      const double shifted = gbs > y_max / 2 ? gbs - y_max / 5 : gbs + y_max / 5;
      const QPoint away = v->mapFromScene(v->chart()->mapToPosition(QPointF(t_us, shifted), v->curve(k)));
      ++samples;
      on += near_colour(img, at, colour);
      off += near_colour(img, away, colour, 0);
    }
    REQUIRE(samples >= 20);
    CHECK(on >= samples * 9 / 10);
    CHECK(off <= samples / 10);
  }
  CHECK(distinct_colours(img) > 20);
}

TEST_CASE("gui: mask cells show computed / partial / skipped, and downsampling is said", "[gui]") {
  MaskView view;
  MaskView* v = &view;
  v->show_result(load(kGpu));
  const QImage img = render(v, 700, 760);
  img.save(QDir(screenshot_dir()).filePath("mask.png"));
  const attnsim::MaskGrid& g = v->grid();
  REQUIRE(g.rows == 64);  // 8192 tokens / 128-token blocks
  int checked = 0;
  for (int64_t r = 0; r < g.rows; r += 3) {
    for (int64_t c = 0; c < g.cols; c += 3) {
      const size_t i = static_cast<size_t>(r * g.cols + c);
      const QRgb want = attnsim::mask_cell_rgb(g.computed_percent[i], g.partial_percent[i]);
      CHECK(colour_distance(img.pixel(v->cell_rect(r, c).center()), want) < 6);
      ++checked;
    }
  }
  CHECK(checked > 400);
  // Causal: above the diagonal skipped (grey), on it partial (orange), below full (blue).
  CHECK(img.pixel(v->cell_rect(10, 11).center()) == QColor(232, 232, 232).rgb());
  CHECK(img.pixel(v->cell_rect(10, 10).center()) == QColor(240, 130, 20).rgb());
  CHECK(img.pixel(v->cell_rect(10, 9).center()) == QColor(31, 78, 161).rgb());
  CHECK(v->caption().contains("one cell per block"));
  // A 128k run's grid arrives downsampled; the view says so.
  ordered_json big = load(kGpu);
  big["mask_grid"]["note"] = "downsampled: each cell covers 8 x 8 blocks";
  v->show_result(big);
  CHECK(v->caption().contains("downsampled: each cell covers 8 x 8 blocks"));
}

TEST_CASE("gui: timeline bars are drawn where and when their units ran", "[gui]") {
  TimelineView view;
  TimelineView* v = &view;
  v->show_result(load(kGpu));
  const QImage img = render(v, 1000, 700);
  img.save(QDir(screenshot_dir()).filePath("timeline.png"));
  const attnsim::Timeline& tl = v->timeline();
  REQUIRE(tl.bars.size() == 2048);
  REQUIRE(tl.lanes == 132);
  int right = 0, n = 0;
  for (size_t i = 0; i < tl.bars.size(); i += 17) {
    ++n;
    right += colour_distance(img.pixel(v->bar_rect(i).center().toPoint()), v->bar_colour(i).rgb()) < 6;
  }
  CHECK(right >= n * 95 / 100);
  // Waves: the first 132 units start at time 0 on 132 different SMs.
  std::set<int64_t> first_wave_lanes;
  for (const auto& b : tl.bars) {
    if (b.unit >= 132) continue;
    first_wave_lanes.insert(b.lane);
    CHECK(b.start_s == 0);
  }
  CHECK(first_wave_lanes.size() == 132);
  // After the kernel ends nothing is drawn.
  const QRectF last = v->bar_rect(0);
  CHECK(colour_distance(img.pixel(QPoint(img.width() - 20, static_cast<int>(last.center().y()))), qRgb(255, 255, 255)) < 6);
}

TEST_CASE("gui: the roofline places one point per memory level under the peak", "[gui]") {
  RooflineView view;
  RooflineView* v = &view;
  v->show_result(load(kGpu));
  const QImage img = render(v);
  img.save(QDir(screenshot_dir()).filePath("roofline.png"));
  REQUIRE(v->run_points().size() == 3);
  const attnsim::Roofline r = attnsim::roofline(load(kGpu));
  CHECK(r.peak_flops_per_s == Approx(989.4e12).epsilon(0.001));  // H100 SXM dense bf16 (hw-configs/h100-sxm.yaml)
  for (size_t k = 0; k < 3; ++k) {
    QScatterSeries* s = v->run_points()[k];
    REQUIRE(s->count() == 1);
    const QPointF p = s->at(0);
    CHECK(p.x() == Approx(r.levels[k].intensity_flop_per_byte));
    const QPoint at = v->mapFromScene(v->chart()->mapToPosition(p, s));
    CHECK(near_colour(img, at, attnsim::kLevelRgb[k], 1));
    CHECK(p.y() < r.peak_flops_per_s / 1e12);
  }
}

TEST_CASE("gui: two runs side by side share a bandwidth scale and a ratio column", "[gui]") {
  CompareView view;
  CompareView* v = &view;
  v->show_results(load(kGpu), load(kTpu));
  const QImage img = render(v, 1200, 760);
  img.save(QDir(screenshot_dir()).filePath("compare.png"));
  const ordered_json a = load(kGpu), b = load(kTpu);
  QTableWidget* t = v->table();
  REQUIRE(t->rowCount() >= 3);
  CHECK(t->item(0, 0)->text().startsWith("latency"));
  CHECK(t->item(0, 3)->text().toDouble() ==
        Approx(b["timing"]["latency_us"].get<double>() / a["timing"]["latency_us"].get<double>()).epsilon(1e-3));
  auto y_max = [](TrafficView* tv) { return static_cast<QValueAxis*>(tv->chart()->axes(Qt::Vertical).at(0))->max(); };
  CHECK(y_max(v->left()) == y_max(v->right()));
  CHECK(v->left()->curves() == 3);   // smem, l2, hbm
  CHECK(v->right()->curves() == 2);  // vmem, hbm
  CHECK(distinct_colours(img) > 30);
}

TEST_CASE("gui: a result without --detail leaves mask and timeline saying why", "[gui]") {
  QTemporaryDir dir;
  ordered_json r = load(kGpu);
  r.erase("timeline");
  r.erase("mask_grid");
  const QString path = dir.filePath("plain.json");
  std::ofstream(path.toStdString()) << r.dump();
  MainWindow w;
  const QString problems = w.open_result(path);
  CHECK(problems.contains("mask: result has no 'mask_grid' section; rerun 'attnsim run' with --detail"));
  CHECK(problems.contains("timeline:"));
  CHECK(w.traffic()->curves() == 3);  // the rest still shows
  CHECK(w.open_result(dir.filePath("missing.json")).contains("cannot read"));
}

TEST_CASE("gui: the form runs a simulation off the UI thread, with a pattern override", "[gui]") {
  QTemporaryDir dir;
  const QString wl = dir.filePath("w.yaml");
  std::ofstream(wl.toStdString()) << "name: small\nbatch: 1\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\nphase: prefill\n"
                                     "kv_len: 2048\npattern: {name: causal}\n";
  MainWindow w;
  RunForm* f = w.run_form();
  REQUIRE(f->hardware()->findText("h100-sxm") >= 0);
  f->hardware()->setCurrentText("h100-sxm");
  f->workload()->setText(wl);
  f->pattern()->setCurrentText("sliding_window");
  f->pattern_params()->setText("window_tokens: 256");
  f->start();
  CHECK(f->running());
  CHECK_FALSE(f->run_button()->isEnabled());
  QString detail;
  REQUIRE(wait_for(f, 60000, &detail) == "finished");
  const ordered_json r = load(detail);
  CHECK(r["workload"]["pattern"].get<std::string>().find("sliding") != std::string::npos);
  CHECK(r.contains("timeline"));
  CHECK(w.timeline()->timeline().bars.size() == r["timing"]["ctas"].get<size_t>());
  CHECK(f->run_button()->isEnabled());
}

TEST_CASE("gui: a long simulation can be cancelled", "[gui]") {
  QTemporaryDir dir;
  const QString wl = dir.filePath("big.yaml");
  // Dense 128k x 8 batches: many seconds of simulation.
  std::ofstream(wl.toStdString()) << "name: big\nbatch: 8\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\nphase: prefill\n"
                                     "kv_len: 131072\npattern: {name: dense}\n";
  RunForm f;
  f.hardware()->setCurrentText("h100-sxm");
  f.workload()->setText(wl);
  f.start();
  REQUIRE(f.running());
  CHECK(f.progress()->maximum() == 0);  // busy indicator while it runs
  QTimer::singleShot(500, &f, &RunForm::cancel);
  CHECK(wait_for(&f, 30000) == "cancelled");
  CHECK_FALSE(f.running());
  CHECK(f.run_button()->isEnabled());
}

TEST_CASE("gui: save_views writes every view as a non-trivial PNG", "[gui]") {
  MainWindow w;
  REQUIRE(w.open_result(kGpu, 0).isEmpty());
  REQUIRE(w.open_result(kTpu, 1).isEmpty());
  QTemporaryDir dir;
  const QStringList files = w.save_views(dir.path());
  REQUIRE(files.size() == 5);
  CHECK(w.tabs()->count() == 5);  // the views are back in their tabs
  CHECK(w.tabs()->widget(1) == w.mask());
  for (const QString& f : files) {
    INFO(f.toStdString());
    QImage img(f);
    REQUIRE(!img.isNull());
    CHECK(img.size() == QSize(1000, 620));
    CHECK(distinct_colours(img.convertToFormat(QImage::Format_RGB32)) > 10);
  }
}
