// The ui tests run inside one QApplication, offscreen unless a platform is
// set (ctest sets QT_QPA_PLATFORM=offscreen; test discovery runs without it),
// so widgets, signals across threads and the thread pool work in tests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QApplication>
#include <QStandardPaths>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  torch::set_num_threads(1);                 // the tests are small; CI has two cores
  QStandardPaths::setTestModeEnabled(true);  // settings and logs never touch the user's
  QApplication app(argc, argv);
  // Recent files and other settings go to a test-only place.
  QApplication::setOrganizationName("RevUpTests");
  QApplication::setApplicationName("revup_ui_tests");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
