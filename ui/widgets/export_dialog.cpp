#include "ui/widgets/export_dialog.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>

#include "core/model_export.h"
#include "ui/models/background_task.h"
#include "ui/widgets/error_reporter.h"
#include "workflows/run_export.h"

namespace revup::ui {
namespace {

QString suffixFor(const QString& format) {
  if (format == "onnx") return ".onnx";
  if (format == "weights") return ".pth";
  return ".pt";
}

}  // namespace

QStringList availableExportFormats() {
  QStringList formats;
  for (const auto& f : available_export_formats()) formats << QString::fromStdString(f);
  return formats;
}

ExportOutcome exportRun(const ExportRequest& r) {
  ExportOutcome outcome;
  try {
    RunExportRequest request;
    request.run_dir = r.runDir.toStdString();
    request.which = r.checkpoint.toStdString();
    request.format = r.format.toStdString();
    request.output = r.output.toStdString();
    if (r.height > 0 && r.width > 0) request.input_size = {r.height, r.width};
    const auto report = export_run(request).report;
    for (const auto& f : report.files) outcome.files << QString::fromStdString(f);
    outcome.ok = true;
    outcome.message = QObject::tr(
                          "Wrote %1. Read back by the format's own reader: max abs "
                          "difference %2 on a random input.")
                          .arg(outcome.files.join(", "))
                          .arg(report.max_abs_difference, 0, 'g', 3);
  } catch (const std::exception& e) {
    outcome.message = QString::fromStdString(e.what());
  }
  return outcome;
}

ExportDialog::ExportDialog(const QStringList& runs, QSize imageSize, QWidget* parent)
    : QDialog(parent) {
  setObjectName("exportDialog");
  setWindowTitle(tr("Export model"));
  run_ = new QComboBox(this);
  run_->setObjectName("exportRunCombo");
  for (const auto& r : runs) run_->addItem(QFileInfo(r).fileName(), r);
  run_->setCurrentIndex(run_->count() - 1);
  format_ = new QComboBox(this);
  format_->setObjectName("exportFormatCombo");
  format_->addItems(availableExportFormats());
  checkpoint_ = new QComboBox(this);
  checkpoint_->addItems({"best", "last"});
  output_ = new QLineEdit(this);
  output_->setObjectName("exportOutputEdit");
  auto* browse = new QPushButton(tr("Browse…"), this);
  height_ = new QSpinBox(this);
  width_ = new QSpinBox(this);
  for (auto* s : {height_, width_}) s->setRange(0, 100000);
  height_->setValue(imageSize.height());
  width_->setValue(imageSize.width());
  height_->setToolTip(tr("The size the export is made and checked for; ONNX is fixed to it"));
  status_ = new QLabel(this);
  status_->setObjectName("exportStatus");
  status_->setWordWrap(true);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Close, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Export"));

  auto* outputRow = new QHBoxLayout;
  outputRow->addWidget(output_);
  outputRow->addWidget(browse);
  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(height_);
  sizeRow->addWidget(new QLabel("x", this));
  sizeRow->addWidget(width_);
  auto* form = new QFormLayout(this);
  form->addRow(tr("Run"), run_);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Checkpoint"), checkpoint_);
  form->addRow(tr("Input size (H x W)"), sizeRow);
  form->addRow(tr("File"), outputRow);
  form->addRow(status_);
  form->addRow(buttons_);

  connect(format_, &QComboBox::currentTextChanged, this, &ExportDialog::suggestOutput);
  connect(run_, &QComboBox::currentIndexChanged, this, &ExportDialog::suggestOutput);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export to"), output_->text());
    if (!path.isEmpty()) output_->setText(path);
  });
  connect(buttons_, &QDialogButtonBox::accepted, this, &ExportDialog::startExport);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  suggestOutput();
}

void ExportDialog::suggestOutput() {
  const QString run = run_->currentData().toString();
  if (run.isEmpty()) return;
  output_->setText(QFileInfo(run).absoluteFilePath() + "/model" +
                   suffixFor(format_->currentText()));
}

ExportRequest ExportDialog::request() const {
  return {run_->currentData().toString(), format_->currentText(), output_->text(),
          checkpoint_->currentText(),     height_->value(),       width_->value()};
}

void ExportDialog::setRequest(const ExportRequest& r) {
  const int runIndex = run_->findData(r.runDir);
  if (runIndex >= 0) run_->setCurrentIndex(runIndex);
  format_->setCurrentText(r.format);
  checkpoint_->setCurrentText(r.checkpoint);
  height_->setValue(r.height);
  width_->setValue(r.width);
  output_->setText(r.output);
}

void ExportDialog::startExport() {
  const ExportRequest r = request();
  if (r.runDir.isEmpty()) {
    status_->setText(tr("Train a model first: there is no run to export."));
    return;
  }
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);
  status_->setText(tr("Exporting and checking %1…").arg(r.output));
  // The application, not the dialog, is the task's context: a dialog closed
  // meanwhile still gets its export logged.
  QPointer<ExportDialog> self(this);
  BackgroundTask::start<ExportOutcome>(
      QCoreApplication::instance(), [r](TaskContext&) { return exportRun(r); },
      [self, r](const ExportOutcome& outcome) {
        if (outcome.ok) {
          logLine("info", "exported " + r.runDir + ": " + outcome.message);
        } else {
          logLine("error", "export of " + r.runDir + " failed: " + outcome.message);
        }
        if (!self) return;
        self->buttons_->button(QDialogButtonBox::Ok)->setEnabled(true);
        self->status_->setText(outcome.message);
        Q_EMIT self->exportFinished(outcome);
      });
}

}  // namespace revup::ui
