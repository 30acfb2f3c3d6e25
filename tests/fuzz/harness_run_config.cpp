// workflows: a run folder's config.json on any bytes, as `predict`,
// `evaluate`, `export` and `train --resume` read it back
// (read_segmentation_run), and as load_classifier reads a classifier's
// (its model description; the network itself is not built: its size is the
// config's to choose, as a user's --width is).

#include "models/model_config.h"
#include "tests/fuzz/fuzz_util.h"
#include "workflows/segmentation_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  fuzz::init_torch();
  static const std::string dir = fuzz::scratch_subdir("run");
  const auto path = fuzz::write_input("run/config.json", data, size);
  fuzz::expect_clear_error(path, [&] {
    const auto run = read_segmentation_run(dir);
    // What the workflows rely on next: one class per output, one
    // normalization entry per input channel.
    if (run.classes.size() != run.model.num_classes) fuzz::fail("classes do not match the model");
    if (static_cast<int64_t>(run.stats.mean.size()) != run.model.backbone.in_channels) {
      fuzz::fail("normalization does not match the model's input channels");
    }
    (void)run.dataset_options();
  });
  fuzz::expect_clear_error(path, [&] {
    // load_classifier's reading, up to building the network.
    const RunFolder folder(dir);
    const auto j = folder.read_config();
    try {
      (void)ModelConfig::from_json(j.at("model"));
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": bad model description (" + e.what() + ")");
    }
  });
  return 0;
}
