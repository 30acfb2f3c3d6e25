// revup: RevUp Studio's desktop application.
//   revup [IMAGE]                         open an image (photo, raster, volume)
//   revup --screenshot FILE [IMAGE]       render the window to a PNG after loading, then quit
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("RevUp Studio");
  QApplication::setOrganizationName("RevUp");
  QApplication::setApplicationVersion(REVUP_VERSION_STRING);

  QCommandLineParser parser;
  parser.setApplicationDescription("Train memory-efficient invertible networks on huge images");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption screenshot("screenshot", "Render the window to FILE (PNG) and quit.",
                                      "FILE");
  parser.addOption(screenshot);
  parser.addPositionalArgument("image", "An image, raster or volume to open.", "[IMAGE]");
  parser.process(app);

  revup::ui::MainWindow window;
  window.show();
  const QStringList args = parser.positionalArguments();
  if (!args.isEmpty() && !window.openImage(args.first()) && parser.isSet(screenshot)) return 1;

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    // After the event loop has laid out and painted the window once.
    QTimer::singleShot(200, &window, [&] {
      const bool saved = window.grab().save(file, "PNG");
      if (!saved) std::fprintf(stderr, "revup: cannot write %s\n", qPrintable(file));
      QApplication::exit(saved ? 0 : 1);
    });
  }
  return QApplication::exec();
}
