// The "run a simulation" form: hardware, workload, pattern (override) and kernel. The run is
// `attnsim run --json --detail` in a child process, so a long simulation never blocks the
// UI and Cancel can stop it at any point (SystemC cannot be interrupted in-process).
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QWidget>
#include <memory>

namespace attnsim::gui {

// The attnsim binary: $ATTNSIM_BIN, else next to this program, else on PATH.
QString attnsim_binary();

class RunForm : public QWidget {
  Q_OBJECT
 public:
  explicit RunForm(QWidget* parent = nullptr);
  QComboBox* hardware() const { return hw_; }
  QLineEdit* workload() const { return workload_; }
  QComboBox* pattern() const { return pattern_; }
  QLineEdit* pattern_params() const { return params_; }
  QComboBox* kernel() const { return kernel_; }
  QPushButton* run_button() const { return run_; }
  QPushButton* cancel_button() const { return cancel_; }
  QProgressBar* progress() const { return progress_; }
  bool running() const { return proc_ && proc_->state() != QProcess::NotRunning; }

 public slots:
  void start();
  void cancel();

 signals:
  void finished(const QString& result_path);
  void failed(const QString& message);
  void cancelled();

 private:
  void set_running(bool on);
  QString prepared_workload(QString* error);  // the workload, with the pattern override applied
  QComboBox *hw_, *pattern_, *kernel_;
  QLineEdit *workload_, *params_;
  QCheckBox* check_;
  QPushButton *run_, *cancel_;
  QProgressBar* progress_;
  QLabel* status_;
  QProcess* proc_ = nullptr;
  std::unique_ptr<QTemporaryDir> tmp_;
  bool cancelling_ = false;
};

}  // namespace attnsim::gui
