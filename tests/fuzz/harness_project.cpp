// ui/models/project: Project::load, the GUI's .revup project file, on any
// bytes; what loads must save again (the GUI saves it back on every change).
#include <QString>

#include "tests/fuzz/fuzz_util.h"
#include "ui/models/project.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  fuzz::init_torch();
  const auto path = fuzz::write_input("scene.revup", data, size);
  ui::Project project;
  if (!fuzz::expect_clear_error(
          path, [&] { project = ui::Project::load(QString::fromStdString(path)); })) {
    return 0;
  }
  const auto again = fuzz::scratch_dir() + "/saved.revup";
  fuzz::expect_clear_error(again, [&] { project.save(QString::fromStdString(again)); });
  return 0;
}
