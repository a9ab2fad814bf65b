// attnsim-gui [RESULT_A.json [RESULT_B.json]] [--save-views DIR]
// With --save-views it renders every view to DIR/<view>.png and exits (no display needed
// with QT_QPA_PLATFORM=offscreen).
#include <QApplication>
#include <cstdio>

#include "gui/app/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QStringList args = app.arguments().mid(1);
  QString save_dir;
  const int at = static_cast<int>(args.indexOf("--save-views"));
  if (at >= 0) {
    if (at + 1 >= args.size()) {
      std::fprintf(stderr, "attnsim-gui: --save-views needs a folder\n");
      return 2;
    }
    save_dir = args[at + 1];
    args.remove(at, 2);
  }
  attnsim::gui::MainWindow w;
  for (int i = 0; i < std::min<int>(2, static_cast<int>(args.size())); ++i) {
    const QString problem = w.open_result(args[i], i);
    if (!problem.isEmpty()) std::fprintf(stderr, "attnsim-gui: %s\n", problem.toUtf8().constData());
  }
  if (!save_dir.isEmpty()) {
    for (const QString& f : w.save_views(save_dir)) std::printf("%s\n", f.toUtf8().constData());
    return 0;
  }
  w.show();
  return app.exec();
}
