#include "gui/app/run_form.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <fstream>
#include <yaml-cpp/yaml.h>

namespace attnsim::gui {

QString attnsim_binary() {
  const QString env = qEnvironmentVariable("ATTNSIM_BIN");
  if (!env.isEmpty()) return env;
  const QString here = QCoreApplication::applicationDirPath() + "/attnsim";
  if (QFileInfo(here).isExecutable()) return here;
  return QStandardPaths::findExecutable("attnsim");
}

namespace {

// First word of each unindented line of `attnsim ARGS` (the listing commands).
QStringList listed_names(const QStringList& args) {
  QProcess p;
  p.start(attnsim_binary(), args);
  QStringList names;
  if (!p.waitForFinished(10000)) return names;
  for (const QString& line : QString::fromUtf8(p.readAllStandardOutput()).split('\n')) {
    if (!line.isEmpty() && !line[0].isSpace()) names << line.section(' ', 0, 0);
  }
  return names;
}

}  // namespace

RunForm::RunForm(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout();
  hw_ = new QComboBox(this);
  hw_->addItems(listed_names({"hw"}));
  hw_->setEditable(true);  // a YAML path works too
  workload_ = new QLineEdit(QDir(ATTNSIM_SOURCE_DIR).filePath("workloads/llama3-8b-prefill-8k-causal.yaml"), this);
  auto* browse = new QPushButton("…", this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Workload", workload_->text(), "Workloads (*.yaml *.yml)");
    if (!f.isEmpty()) workload_->setText(f);
  });
  auto* wl = new QHBoxLayout();
  wl->addWidget(workload_);
  wl->addWidget(browse);
  pattern_ = new QComboBox(this);
  pattern_->addItem("(from the workload)");
  pattern_->addItems(listed_names({"patterns"}));
  params_ = new QLineEdit(this);
  params_->setPlaceholderText("pattern parameters, e.g. window_tokens: 1024");
  kernel_ = new QComboBox(this);
  kernel_->addItem("(default for the hardware)");
  for (const QFileInfo& f : QDir(QDir(ATTNSIM_SOURCE_DIR).filePath("workloads/kernels")).entryInfoList({"*.yaml"}, QDir::Files, QDir::Name)) {
    kernel_->addItem(f.completeBaseName());
  }
  check_ = new QCheckBox("functional check (slower)", this);
  form->addRow("Hardware", hw_);
  form->addRow("Workload", wl);
  form->addRow("Pattern", pattern_);
  form->addRow("", params_);
  form->addRow("Kernel", kernel_);
  form->addRow("", check_);
  run_ = new QPushButton("Run", this);
  cancel_ = new QPushButton("Cancel", this);
  progress_ = new QProgressBar(this);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* buttons = new QHBoxLayout();
  buttons->addWidget(run_);
  buttons->addWidget(cancel_);
  auto* v = new QVBoxLayout(this);
  v->addLayout(form);
  v->addLayout(buttons);
  v->addWidget(progress_);
  v->addWidget(status_);
  v->addStretch();
  connect(run_, &QPushButton::clicked, this, &RunForm::start);
  connect(cancel_, &QPushButton::clicked, this, &RunForm::cancel);
  set_running(false);
}

void RunForm::set_running(bool on) {
  run_->setEnabled(!on);
  cancel_->setEnabled(on);
  // The CLI reports stages, not fractions: a busy bar while it runs.
  progress_->setRange(0, on ? 0 : 1);
  progress_->setValue(on ? 0 : 1);
  progress_->setVisible(on);
}

QString RunForm::prepared_workload(QString* error) {
  if (pattern_->currentIndex() <= 0) return workload_->text();
  try {
    YAML::Node w = YAML::LoadFile(workload_->text().toStdString());
    YAML::Node pat = params_->text().trimmed().isEmpty() ? YAML::Node(YAML::NodeType::Map)
                                                         : YAML::Load("{" + params_->text().toStdString() + "}");
    if (!pat.IsMap()) throw YAML::Exception(YAML::Mark(), "pattern parameters must be 'key: value, ...'");
    pat["name"] = pattern_->currentText().toStdString();
    w["pattern"] = pat;
    const QString path = tmp_->filePath("workload.yaml");
    std::ofstream f(path.toStdString());
    f << YAML::Dump(w) << "\n";
    return path;
  } catch (const YAML::Exception& e) {
    *error = QString("workload / pattern parameters: ") + e.what();
    return {};
  }
}

void RunForm::start() {
  if (running()) return;
  tmp_ = std::make_unique<QTemporaryDir>();
  QString error;
  const QString workload = prepared_workload(&error);
  if (workload.isEmpty()) {
    status_->setText(error);
    emit failed(error);
    return;
  }
  const QString out = tmp_->filePath("result.json");
  QStringList args = {"run", "--hw", hw_->currentText(), "-w", workload, "--json", "--detail", "-o", out};
  if (kernel_->currentIndex() > 0) args << "--kernel" << kernel_->currentText();
  if (!check_->isChecked()) args << "--no-check";
  delete proc_;
  proc_ = new QProcess(this);
  cancelling_ = false;
  connect(proc_, &QProcess::readyReadStandardError, this, [this] {
    // "\rattnsim: simulating timing... 3 s": show the latest stage.
    const QStringList parts = QString::fromUtf8(proc_->readAllStandardError()).split(QRegularExpression("[\r\n]"), Qt::SkipEmptyParts);
    if (!parts.isEmpty()) status_->setText(parts.last());
  });
  connect(proc_, &QProcess::finished, this, [this, out](int code, QProcess::ExitStatus st) {
    set_running(false);
    if (cancelling_) {
      status_->setText("cancelled");
      emit cancelled();
    } else if (st == QProcess::NormalExit && code == 0) {
      status_->setText("done");
      emit finished(out);
    } else {
      const QString msg = status_->text().isEmpty() ? QString("attnsim exited with %1").arg(code) : status_->text();
      status_->setText(msg);
      emit failed(msg);
    }
  });
  status_->setText("starting attnsim…");
  set_running(true);
  proc_->start(attnsim_binary(), args);
  if (!proc_->waitForStarted(5000)) {
    set_running(false);
    const QString msg = "cannot start attnsim ('" + attnsim_binary() + "'); set ATTNSIM_BIN";
    status_->setText(msg);
    emit failed(msg);
  }
}

void RunForm::cancel() {
  if (!running()) return;
  cancelling_ = true;
  proc_->kill();  // the child only writes its result by rename at the end: nothing half-written
}

}  // namespace attnsim::gui
