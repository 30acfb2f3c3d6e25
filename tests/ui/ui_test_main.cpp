// GoogleTest with a QApplication (offscreen under ctest), so widgets, signals
// across threads and the thread pool work in tests.
#include <QApplication>
#include <QStandardPaths>

#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);  // settings and logs never touch the user's
  QApplication app(argc, argv);
  torch::set_num_threads(1);  // the machine is shared with the build and other tests
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
