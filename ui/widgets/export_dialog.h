#pragma once
// Export a trained run for other tools: the same path as `revup-cli export`
// (models/run_export + core's write_export), so the files, the model card and
// the read-back check are the CLI's. The work runs on the thread pool; the
// dialog shows what was written and the measured difference.
#include <QDialog>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;
QT_END_NAMESPACE

namespace revup::ui {

struct ExportRequest {
  QString runDir, format = "torchscript", output, checkpoint = "best";
  int height = 0, width = 0;  // 0: no fixed input size (ONNX needs one)
};

struct ExportOutcome {
  bool ok = false;
  QString message;  // files written and the check, or the error
  QStringList files;
};

// Runs the export in the calling thread (the dialog calls it on the pool).
ExportOutcome exportRun(const ExportRequest& request);
// The formats this build can write ("torchscript", "weights", "onnx").
QStringList availableExportFormats();

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  // `runs`: run folders to offer, newest last; `imageSize`: default input size.
  ExportDialog(const QStringList& runs, QSize imageSize, QWidget* parent = nullptr);

  ExportRequest request() const;
  void setRequest(const ExportRequest& request);
  // Starts the export (what OK does); finished() reports it.
  void startExport();

 Q_SIGNALS:
  void exportFinished(const revup::ui::ExportOutcome& outcome);

 private:
  void suggestOutput();

  QComboBox *run_, *format_, *checkpoint_;
  QLineEdit* output_;
  QSpinBox *height_, *width_;
  QLabel* status_;
  QDialogButtonBox* buttons_;
};

}  // namespace revup::ui

Q_DECLARE_METATYPE(revup::ui::ExportOutcome)
