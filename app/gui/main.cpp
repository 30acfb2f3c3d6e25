// revup: RevUp Studio's desktop application.
//   revup [IMAGE]                         open an image (photo, raster, volume)
//   revup --screenshot FILE [IMAGE]       render the window to a PNG after loading, then quit
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>
#include <memory>

#include "ui/image_view.h"
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
    // After the event loop has laid out and painted the window, and the image
    // view has drawn every visible tile sharp (rasters read theirs over a few
    // paints; give up waiting after 20 s and take what is there).
    auto* poll = new QTimer(&window);
    auto waited = std::make_shared<int>(0);
    QObject::connect(poll, &QTimer::timeout, &window, [&window, file, poll, waited] {
      const auto* view = window.findChild<revup::ui::ImageView*>("imageView");
      *waited += poll->interval();
      if (view && !view->renderComplete() && *waited < 20000) return;
      poll->stop();
      const bool saved = window.grab().save(file, "PNG");
      if (!saved) std::fprintf(stderr, "revup: cannot write %s\n", qPrintable(file));
      QApplication::exit(saved ? 0 : 1);
    });
    poll->start(200);
  }
  return QApplication::exec();
}
