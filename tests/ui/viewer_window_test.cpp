// The main window's viewer half: opening, painting with the mouse, errors as
// dialogs, drops, recent files, the dataset dock.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QUrl>

#include <filesystem>
#include <vector>

#include "tests/io/test_files.h"
#include "tests/ui/ui_test_util.h"
#include "ui/widgets/dataset_browser.h"
#include "ui/widgets/error_reporter.h"
#include "ui/models/image_document.h"
#include "ui/widgets/image_view.h"
#include "ui/widgets/main_window.h"

namespace revup::ui {
namespace {

// Closes error dialogs left open by a test (they are non-modal to the loop).
void closeDialogs(QWidget& window) {
  for (auto* box : window.findChildren<QMessageBox*>("errorDialog")) box->close();
  QApplication::processEvents();
}

// A mouse move without buttons (QTest's moves the cursor, which an offscreen
// platform need not turn into an event).
void hover(QWidget* widget, QPoint pos) {
  QMouseEvent move(QEvent::MouseMove, pos, widget->mapToGlobal(pos), Qt::NoButton, Qt::NoButton,
                   Qt::NoModifier);
  QApplication::sendEvent(widget, &move);
}

struct ShownWindow {
  MainWindow window;
  ImageView* view;
  ShownWindow() {
    window.resize(900, 700);
    window.show();
    EXPECT_TRUE(QTest::qWaitForWindowExposed(&window));
    view = window.findChild<ImageView*>("imageView");
  }
  ~ShownWindow() { closeDialogs(window); }
};

TEST(ViewerWindow, OpensEachKindAndDescribesIt) {
  const auto dir = testing::scratch_dir();
  ShownWindow w;
  EXPECT_EQ(w.window.document(), nullptr);
  QSignalSpy changed(&w.window, &MainWindow::documentChanged);
  ASSERT_TRUE(w.window.openImage(testing::writePhoto(dir + "/p.png", 48, 64)));
  ASSERT_NE(w.window.document(), nullptr);
  EXPECT_EQ(changed.count(), 1);
  auto* info = w.window.findChild<QLabel*>("imageInfoLabel");
  EXPECT_TRUE(info->text().contains("64 x 48")) << info->text().toStdString();
  EXPECT_FALSE(w.window.findChild<QDockWidget*>("volumeDock")->isVisible());
  EXPECT_EQ(QSettings().value("recentFiles").toStringList().value(0),
            QString::fromStdString(dir + "/p.png"));

  testing::requireItk();
  ASSERT_TRUE(w.window.openImage(testing::writeVolume(dir + "/v.nii.gz")));
  EXPECT_TRUE(w.window.document()->isVolume());
  EXPECT_TRUE(w.window.findChild<QDockWidget*>("volumeDock")->isVisible());
  EXPECT_TRUE(info->text().contains("spacing")) << info->text().toStdString();

  testing::requireGdal();
  ASSERT_TRUE(w.window.openImage(testing::writeGeoTiff(dir + "/g.tif", 40, 50)));
  EXPECT_EQ(w.window.document()->kind(), ImageKind::Raster);
  EXPECT_FALSE(w.window.findChild<QDockWidget*>("volumeDock")->isVisible());
  // The cursor's CRS position reaches the status bar.
  w.view->fitToWindow();
  hover(w.view, w.view->planeToWidget(QPointF(10.5, 20.5)).toPoint());
  auto* cursor = w.window.findChild<QLabel*>("cursorLabel");
  EXPECT_TRUE(cursor->text().contains("x 10, y 20")) << cursor->text().toStdString();
  EXPECT_TRUE(cursor->text().contains("X 5001")) << cursor->text().toStdString();
}

TEST(ViewerWindow, PaintingWithTheMouseChangesLabelsAndUndoRestoresThem) {
  ShownWindow w;
  ASSERT_TRUE(w.window.openImage(testing::writePhoto(testing::scratch_dir() + "/p.png", 100, 160)));
  ImageDocument* doc = w.window.document();
  w.view->fitToWindow();
  w.view->setBrushSize(6);
  w.view->setActiveClass(1);
  QSignalSpy changed(w.view, &ImageView::labelsChanged);
  const QPoint a = w.view->planeToWidget(QPointF(20, 50)).toPoint();
  const QPoint b = w.view->planeToWidget(QPointF(120, 50)).toPoint();
  QTest::mousePress(w.view, Qt::LeftButton, {}, a);
  for (int i = 1; i <= 10; ++i) QTest::mouseMove(w.view, a + (b - a) * i / 10);
  QTest::mouseRelease(w.view, Qt::LeftButton, {}, b);
  EXPECT_EQ(changed.count(), 1);
  const auto labels = doc->trainingLabels();
  EXPECT_EQ(labels[50][20].item<int64_t>(), 1);
  EXPECT_EQ(labels[50][70].item<int64_t>(), 1);
  EXPECT_EQ(labels[50][120].item<int64_t>(), 1);
  EXPECT_EQ(labels[10][70].item<int64_t>(), 255);
  // What is drawn: the class colour blended over the image at the stroke.
  const QImage shown = w.view->grab().toImage();
  const QImage plain = doc->render(QRectF(0, 0, 160, 100), QSize(160, 100));
  const QPoint mid = w.view->planeToWidget(QPointF(70.5, 50.5)).toPoint();
  EXPECT_NE(shown.pixel(mid), plain.pixel(70, 50));

  // Fill through the tool bar, then undo both with the shortcut actions.
  w.window.findChild<QAction*>("fillAction")->trigger();
  w.view->setActiveClass(0);
  QTest::mouseClick(w.view, Qt::LeftButton, {}, w.view->planeToWidget(QPointF(5, 5)).toPoint());
  EXPECT_EQ(doc->trainingLabels()[5][5].item<int64_t>(), 0);
  EXPECT_EQ(doc->trainingLabels()[50][70].item<int64_t>(), 1);
  auto* undo = w.window.findChild<QAction*>("undoAction");
  ASSERT_TRUE(undo->isEnabled());
  undo->trigger();
  EXPECT_TRUE(doc->trainingLabels().equal(labels));
  undo->trigger();
  EXPECT_TRUE(doc->trainingLabels().eq(255).all().item<bool>());
  EXPECT_FALSE(undo->isEnabled());
  w.window.findChild<QAction*>("redoAction")->trigger();
  EXPECT_TRUE(doc->trainingLabels().equal(labels));
}

// Clicks `button` of the modal "unsavedLabelsDialog" once it shows (exec()
// runs its own loop; a timer polling from inside it answers).
void answerUnsavedLabels(QMessageBox::StandardButton button) {
  auto* poll = new QTimer;
  QObject::connect(poll, &QTimer::timeout, poll, [poll, button] {
    for (auto* w : QApplication::topLevelWidgets()) {
      auto* box = qobject_cast<QMessageBox*>(w);
      if (!box || box->objectName() != "unsavedLabelsDialog" || !box->isVisible()) continue;
      poll->stop();  // deleteLater waits for the outer loop: stop answering now
      poll->deleteLater();
      box->button(button)->click();
      return;
    }
  });
  poll->start(20);
}

TEST(ViewerWindow, UnsavedLabelsAreSavedDiscardedOrKeptAsTheUserAnswers) {
  ShownWindow w;
  const std::string dir = testing::scratch_dir();
  const QString first = testing::writePhoto(dir + "/first.png", 30, 40);
  const QString second = testing::writePhoto(dir + "/second.png", 30, 40);
  QFile::remove(QString::fromStdString(dir + "/first.labels.png"));
  ASSERT_TRUE(w.window.openImage(first));
  ImageDocument* doc = w.window.document();
  EXPECT_FALSE(doc->hasUnsavedLabels());
  doc->labels().fill(QPoint(3, 3), 1);
  EXPECT_TRUE(doc->hasUnsavedLabels());

  // Cancel: nothing opens, the painted labels stay.
  answerUnsavedLabels(QMessageBox::Cancel);
  EXPECT_FALSE(w.window.openImage(second));
  EXPECT_EQ(w.window.document(), doc);
  EXPECT_TRUE(doc->hasUnsavedLabels());
  // Closing asks too, and Cancel keeps the window open.
  answerUnsavedLabels(QMessageBox::Cancel);
  EXPECT_FALSE(w.window.close());
  EXPECT_TRUE(w.window.isVisible());

  // Save: the labels land beside the image, then the other image opens.
  answerUnsavedLabels(QMessageBox::Save);
  ASSERT_TRUE(w.window.openImage(second));
  EXPECT_TRUE(w.window.document()->path().endsWith("second.png"));
  EXPECT_FALSE(w.window.document()->hasUnsavedLabels());
  ASSERT_TRUE(w.window.openImage(first));  // nothing changed: no question
  EXPECT_EQ(w.window.document()->trainingLabels()[3][3].item<int64_t>(), 1);

  // Discard: the change is dropped.
  w.window.document()->renameClass(1, "roof");
  EXPECT_TRUE(w.window.document()->hasUnsavedLabels());
  answerUnsavedLabels(QMessageBox::Discard);
  ASSERT_TRUE(w.window.openImage(second));
  ASSERT_TRUE(w.window.openImage(first));
  EXPECT_NE(w.window.document()->classes().classes.at(1).name, "roof");
}

TEST(ViewerWindow, PanelPlacesAreRememberedBetweenSessions) {
  {
    MainWindow window;
    window.show();
    window.findChild<QDockWidget*>("metricsDock")->hide();
    window.saveLayout();
  }
  MainWindow next;
  next.show();
  EXPECT_TRUE(next.findChild<QDockWidget*>("metricsDock")->isVisible());  // defaults first
  next.restoreLayout();
  EXPECT_FALSE(next.findChild<QDockWidget*>("metricsDock")->isVisible());
  QSettings().remove("window");
}

// Records the area of every paint event a widget gets.
class PaintSpy : public QObject {
 public:
  std::vector<QRect> rects;

 protected:
  bool eventFilter(QObject*, QEvent* event) override {
    if (event->type() == QEvent::Paint) {
      for (const QRect& r : static_cast<QPaintEvent*>(event)->region()) rects.push_back(r);
    }
    return false;
  }
};

TEST(ViewerWindow, AStrokeRepaintsOnlyItsDirtyRectangle) {
  ShownWindow w;
  // A 4K photo at 1:1 in the view: a mouse move of a 10 px brush must not
  // redraw the whole view.
  ASSERT_TRUE(
      w.window.openImage(testing::writePhoto(testing::scratch_dir() + "/4k.png", 2160, 3840)));
  w.view->setBrushSize(10);
  const QPoint start(w.view->width() / 2, w.view->height() / 2);
  w.view->zoomBy(1 / w.view->scale(), start);
  QApplication::processEvents();
  QTest::mousePress(w.view, Qt::LeftButton, {}, start);
  QApplication::processEvents();
  PaintSpy spy;
  w.view->installEventFilter(&spy);
  for (int i = 1; i <= 5; ++i) {
    QTest::mouseMove(w.view, start + QPoint(4 * i, 0));
    QApplication::processEvents();
  }
  QTest::mouseRelease(w.view, Qt::LeftButton, {}, start + QPoint(20, 0));
  w.view->removeEventFilter(&spy);
  ASSERT_FALSE(spy.rects.empty());
  const int64_t viewArea = int64_t{w.view->width()} * w.view->height();
  for (const QRect& r : spy.rects) {
    EXPECT_LT(int64_t{r.width()} * r.height(), viewArea / 20) << r.width() << "x" << r.height();
  }
  const QPointF painted = w.view->widgetToPlane(start + QPoint(10, 0));
  EXPECT_EQ(
      w.window.document()->trainingLabels()[int(painted.y())][int(painted.x())].item<int64_t>(), 1);
}

TEST(ViewerWindow, ABadFileGivesAnErrorDialogAndKeepsWhatWasOpen) {
  const auto dir = testing::scratch_dir();
  ShownWindow w;
  const QString good = testing::writePhoto(dir + "/good.png", 30, 40);
  ASSERT_TRUE(w.window.openImage(good));
  const std::string bytes = testing::read_file(good.toStdString());
  const std::string bad = testing::write_file(dir + "/cut.png", bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(w.window.openImage(QString::fromStdString(bad)));
  auto* box = w.window.findChild<QMessageBox*>("errorDialog");
  ASSERT_NE(box, nullptr);
  EXPECT_TRUE(box->isVisible());
  EXPECT_TRUE(box->text().contains("cut.png")) << box->text().toStdString();
  EXPECT_TRUE(box->text().contains("truncated")) << box->text().toStdString();
  ASSERT_NE(w.window.document(), nullptr);
  EXPECT_EQ(w.window.document()->path(), good);
  QFile log(logFilePath());
  ASSERT_TRUE(log.open(QIODevice::ReadOnly));
  EXPECT_TRUE(QString(log.readAll()).contains("cut.png"));
  // A file nobody reads: the same.
  closeDialogs(w.window);
  EXPECT_FALSE(w.window.openImage(QString::fromStdString(dir + "/missing.png")));
  EXPECT_EQ(w.window.document()->path(), good);
}

TEST(ViewerWindow, PredictionsAreDrawnOverTheImage) {
  ShownWindow w;
  ASSERT_TRUE(w.window.openImage(testing::writePhoto(testing::scratch_dir() + "/p.png", 50, 80)));
  w.view->fitToWindow();
  const QPoint at = w.view->planeToWidget(QPointF(40.5, 25.5)).toPoint();
  const QRgb before = w.view->grab().toImage().pixel(at);
  w.view->setPrediction(torch::ones({50, 80}, torch::kInt64));
  EXPECT_TRUE(w.view->hasPrediction());
  EXPECT_NE(w.view->grab().toImage().pixel(at), before);
  w.view->clearPrediction();
  EXPECT_EQ(w.view->grab().toImage().pixel(at), before);
  EXPECT_THROW(w.view->setPrediction(torch::ones({10, 10}, torch::kInt64)), std::invalid_argument);
}

TEST(ViewerWindow, DroppedFilesAreOpened) {
  ShownWindow w;
  const QString path = testing::writePhoto(testing::scratch_dir() + "/dropped.png", 20, 30);
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path)});
  // As a window system delivers it: the drag enters (and is accepted), then drops.
  QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w.window, &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w.window, &drop);
  ASSERT_NE(w.window.document(), nullptr);
  EXPECT_EQ(w.window.document()->path(), path);
}

TEST(ViewerWindow, DatasetFoldersListImagesThatOpenWithTheirMasks) {
  const std::string dir = testing::scratch_dir();
  std::filesystem::create_directories(dir + "/images");
  std::filesystem::create_directories(dir + "/masks");
  for (const char* name : {"a", "b"}) {
    testing::writePhoto(dir + "/images/" + name + ".png", 24, 32);
    Image mask;
    mask.pixels = torch::zeros({1, 24, 32}, torch::kUInt8);
    mask.pixels.slice(1, 0, 12).fill_(name[0] == 'a' ? 1 : 2);
    write_image(mask, dir + "/masks/" + name + ".png");
  }
  auto listing = DatasetListing::open(QString::fromStdString(dir));
  ASSERT_EQ(listing->entries().size(), 2u);
  EXPECT_EQ(listing->entries()[1].name, "b");

  ShownWindow w;
  auto* browser = w.window.findChild<DatasetBrowser*>("datasetBrowser");
  ASSERT_NE(browser, nullptr);
  browser->setListing(std::move(listing));
  Q_EMIT browser->entryActivated(1);
  ASSERT_NE(w.window.document(), nullptr);
  EXPECT_EQ(w.window.document()->path(), QString::fromStdString(dir + "/images/b.png"));
  const auto labels = w.window.document()->trainingLabels();
  EXPECT_EQ(labels[0][0].item<int64_t>(), 2);
  EXPECT_EQ(labels[20][0].item<int64_t>(), 0);
  EXPECT_GE(w.window.document()->classes().size(), 3);
}

}  // namespace
}  // namespace revup::ui
