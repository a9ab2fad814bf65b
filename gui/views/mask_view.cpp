#include "gui/views/mask_view.h"

#include <QPainter>
#include <algorithm>

namespace attnsim::gui {

namespace {
constexpr int kTitlePx = 28, kCaptionPx = 44, kMarginPx = 16;
}

MaskView::MaskView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(300, 300);
  setAutoFillBackground(true);
  setPalette(QPalette(Qt::white));
  title_ = "Block mask: open a result made with 'attnsim run --detail'";
}

void MaskView::show_result(const nlohmann::ordered_json& result) {
  grid_ = mask_grid(result);
  title_ = QString::fromStdString("Block mask, batch 0 head 0 — " + run_title(result));
  caption_ = QString("%1 x %2 cells; %3.  Blue: computed.  Orange: computed with an element mask.  Grey: skipped.")
                 .arg(grid_.rows)
                 .arg(grid_.cols)
                 .arg(QString::fromStdString(grid_.note));
  update();
}

QRect MaskView::grid_rect() const {
  const int avail_w = width() - 2 * kMarginPx, avail_h = height() - kTitlePx - kCaptionPx;
  if (grid_.rows == 0 || grid_.cols == 0) return {};
  // Square cells, as large as fit.
  const int cell = std::max<int>(1, std::min(avail_w / static_cast<int>(grid_.cols), avail_h / static_cast<int>(grid_.rows)));
  const int w = cell * static_cast<int>(grid_.cols), h = cell * static_cast<int>(grid_.rows);
  return QRect((width() - w) / 2, kTitlePx, w, h);
}

QRect MaskView::cell_rect(int64_t row, int64_t col) const {
  const QRect g = grid_rect();
  const int cell = grid_.cols > 0 ? g.width() / static_cast<int>(grid_.cols) : 0;
  return QRect(g.left() + static_cast<int>(col) * cell, g.top() + static_cast<int>(row) * cell, cell, cell);
}

void MaskView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setPen(Qt::black);
  p.drawText(QRect(0, 4, width(), kTitlePx - 4), Qt::AlignHCenter | Qt::AlignTop, title_);
  if (grid_.rows == 0) return;
  // One pixel per cell, scaled without smoothing: exact colours, cheap for 128 x 128.
  QImage img(static_cast<int>(grid_.cols), static_cast<int>(grid_.rows), QImage::Format_RGB32);
  for (int64_t r = 0; r < grid_.rows; ++r) {
    for (int64_t c = 0; c < grid_.cols; ++c) {
      const size_t i = static_cast<size_t>(r * grid_.cols + c);
      img.setPixel(static_cast<int>(c), static_cast<int>(r), 0xff000000u | mask_cell_rgb(grid_.computed_percent[i], grid_.partial_percent[i]));
    }
  }
  const QRect g = grid_rect();
  p.drawImage(g, img);
  p.setPen(Qt::darkGray);
  p.drawRect(g.adjusted(0, 0, -1, -1));
  p.setPen(Qt::black);
  p.drawText(QRect(kMarginPx, g.bottom() + 6, width() - 2 * kMarginPx, kCaptionPx - 8),
             Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, caption_);
}

void MaskView::show_message(const QString& why) {
  grid_ = MaskGrid{};
  title_ = why;
  caption_.clear();
  update();
}

}  // namespace attnsim::gui
