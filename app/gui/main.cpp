// revup: RevUp Studio's desktop application.
//   revup [IMAGE]                      open an image (photo, raster, volume)
//   revup --project P                  open a project
//   revup --screenshot FILE ...        render the window to a PNG once loaded, then quit;
//         [--train N] [--panel NAME]   after N epochs of training, with a panel in front,
//         [--size WxH]                 the window at that size (default 1600x1000)
//   revup --soak SECONDS --soak-report FILE IMAGE   train that long, timing the event
//                                      loop (ui/widgets/soak_session.h, tests/ui/soak.sh)
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>
#include <memory>

#include "ui/widgets/image_view.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/soak_session.h"
#include "ui/widgets/training_panel.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("RevUp Studio");
  QApplication::setOrganizationName("RevUp");
  QApplication::setApplicationVersion(REVUP_VERSION_STRING);

  QCommandLineParser parser;
  parser.setApplicationDescription("Train memory-efficient invertible networks on huge images");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption project("project", "Open a project file.", "P");
  const QCommandLineOption screenshot("screenshot", "Render the window to FILE (PNG) and quit.",
                                      "FILE");
  const QCommandLineOption train("train", "With --screenshot: train N epochs first.", "N");
  const QCommandLineOption panel(
      "panel", "Bring a panel to the front: training, memory, reconstruction, metrics.", "NAME");
  const QCommandLineOption size("size", "With --screenshot: the window's size (default 1600x1000).",
                                "WxH", "1600x1000");
  const QCommandLineOption soak(
      "soak", "Train for SECONDS, timing the event loop, then write --soak-report and quit.",
      "SECONDS");
  const QCommandLineOption soakReport("soak-report", "With --soak: the report (JSON).", "FILE");
  parser.addOptions({project, screenshot, train, panel, size, soak, soakReport});
  parser.addPositionalArgument("image", "An image, raster or volume to open.", "[IMAGE]");
  parser.process(app);

  revup::ui::MainWindow window;
  QSize shotSize;
  const bool scripted = parser.isSet(screenshot) || parser.isSet(soak);
  if (scripted) {
    // Screenshots show the defaults, not whatever the last session trained with.
    window.findChild<revup::ui::TrainingPanel*>()->setSettings(revup::ui::TrainingSettings{});
    const QStringList wh = parser.value(size).split('x');
    const int w = wh.value(0).toInt(), h = wh.value(1).toInt();
    if (wh.size() != 2 || w < 320 || h < 240) {
      std::fprintf(stderr, "revup: --size wants WxH, e.g. 1280x800, not %s\n",
                   qPrintable(parser.value(size)));
      return 2;
    }
    shotSize = QSize(w, h);
    window.setDefaultLayout(shotSize);
  } else {
    window.restoreLayout();
  }
  window.show();
  bool loaded = true;
  if (parser.isSet(project)) loaded = window.openProject(parser.value(project));
  const QStringList args = parser.positionalArguments();
  if (!args.isEmpty()) loaded = window.openImage(args.first()) && loaded;
  if (parser.isSet(panel) && !window.raisePanel(parser.value(panel))) {
    std::fprintf(stderr, "revup: no panel named %s\n", qPrintable(parser.value(panel)));
    return 2;
  }
  if (parser.isSet(soak)) {
    const int seconds = parser.value(soak).toInt();
    if (seconds <= 0 || !parser.isSet(soakReport) || !loaded) {
      std::fprintf(stderr, "revup: --soak wants SECONDS > 0, --soak-report FILE and an image\n");
      return 2;
    }
    if (!revup::ui::startSoak(window, seconds, parser.value(soakReport))) return 1;
    return QApplication::exec();
  }
  if (!parser.isSet(screenshot)) return QApplication::exec();

  // Non-interactive: a load error is an exit code, not a dialog to wait on.
  if (!loaded) return 1;
  const QString file = parser.value(screenshot);
  const auto shoot = [&window, file, shotSize] {
    // After the event loop has laid out and painted the window, and the image
    // view has drawn every visible tile sharp (rasters read theirs over a few
    // paints; give up waiting after 20 s and take what is there).
    auto* poll = new QTimer(&window);
    auto waited = std::make_shared<int>(0);
    QObject::connect(poll, &QTimer::timeout, &window, [&window, file, shotSize, poll, waited] {
      const auto* view = window.findChild<revup::ui::ImageView*>("imageView");
      *waited += poll->interval();
      if (view && !view->renderComplete() && *waited < 20000) return;
      poll->stop();
      // Panels that need more room than asked for grow the window.
      if (window.size() != shotSize) {
        std::fprintf(stderr, "revup: the window needs %dx%d, more than the %dx%d asked for\n",
                     window.width(), window.height(), shotSize.width(), shotSize.height());
      }
      const bool saved = window.grab().save(file, "PNG", 0);  // 0: smallest file
      if (!saved) std::fprintf(stderr, "revup: cannot write %s\n", qPrintable(file));
      window.close();
      QApplication::exit(saved ? 0 : 1);
    });
    poll->start(200);
  };
  const int epochs = parser.value(train).toInt();
  if (epochs > 0) {
    QObject::connect(&window, &revup::ui::MainWindow::trainingEpochFinished, &window,
                     [&window, epochs, shoot](int epoch) {
                       if (epoch != epochs) return;
                       window.pauseTraining();
                       // Let the reconstruction panel catch up with the last snapshot.
                       QTimer::singleShot(3000, &window, shoot);
                     });
    QObject::connect(&window, &revup::ui::MainWindow::trainingFinished, &window,
                     [shoot](bool) { shoot(); });
    if (!window.startTraining()) return 1;
  } else {
    shoot();
  }
  return QApplication::exec();
}
