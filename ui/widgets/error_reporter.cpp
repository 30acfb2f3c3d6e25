#include "ui/widgets/error_reporter.h"

#include <QMessageBox>

namespace revup::ui {

void reportError(QWidget* parent, const QString& title, const QString& message) {
  logLine("error", title + ": " + message);
  auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, parent);
  box->setObjectName("errorDialog");
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

}  // namespace revup::ui
