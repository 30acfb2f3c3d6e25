// io: a dataset manifest on any bytes (open_segmentation_dataset on a .json):
// pairs of images and masks, or a volume with its labels. The files a
// manifest names are small .npy arrays written once beside it, so the fuzzer
// reaches past the paths into the class lists, axes and label values. Volumes
// come from a .vol.npy format registered here: a [D, H, W] array read as a
// one-channel volume (the real volume readers are the plugins', not ours).
#include <filesystem>

#include "io/format_registry.h"
#include "io/npy.h"
#include "io/segmentation_dataset.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace revup;

void make_files(const std::string& dir) {
  const auto ramp = torch::arange(24).reshape({4, 6});
  write_npy(ramp.to(torch::kUInt8) * 10, dir + "/img.npy");
  write_npy((ramp % 3).to(torch::kInt32), dir + "/mask.npy");
  write_npy((ramp % 2).to(torch::kInt32) * 255, dir + "/mask255.npy");
  write_npy(torch::stack({ramp, ramp * 2, ramp * 3}, 2).to(torch::kUInt8), dir + "/rgb.npy");
  const auto cube = torch::arange(72).reshape({3, 4, 6});
  write_npy(cube.to(torch::kFloat32), dir + "/vol.vol.npy");
  write_npy((cube % 4).to(torch::kInt16), dir + "/labels.vol.npy");
  write_npy(torch::full({3, 4, 6}, -3, torch::kInt16), dir + "/negative.vol.npy");
  write_npy(torch::full({3, 4, 6}, int32_t{1} << 30, torch::kInt32), dir + "/huge.vol.npy");
  fuzz::write_text(dir + "/aal.txt", "1 Precentral_L 2001\n2 Precentral_R 2002\n3 Frontal 2101\n");
  fuzz::write_text(dir + "/names.txt", "_background_\ncat\ndog\n");
  fuzz::write_text(dir + "/big_index.txt", "1 Left 2001\n123456789012345678901234 Right 2\n");
  ImageFormat f;
  f.name = "fuzz-volume";
  f.extensions = {".vol.npy"};
  f.read = [](const std::string& path) {
    auto a = read_npy(path);
    if (a.dim() != 3) throw std::runtime_error(path + ": a .vol.npy volume must be [D, H, W]");
    Image image;
    image.pixels = a.unsqueeze(0);
    return image;
  };
  default_registry().add(std::move(f));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::init_torch();
  static const std::string dir = [] {
    make_files(fuzz::scratch_dir());
    return fuzz::scratch_dir();
  }();
  const auto path = fuzz::write_input("dataset.json", data, size);
  fuzz::expect_clear_error(dir, [&] {
    const auto dataset = open_segmentation_dataset(path);
    // What training does next: every example, and its classes.
    for (size_t i = 0; i < dataset->size(); ++i) {
      const auto e = dataset->get(i);
      if (e.target.dim() != dataset->dims()) fuzz::fail("a target that is not [H, W] or [D, H, W]");
      if (e.input.dim() != e.target.dim() + 1)
        fuzz::fail("an input that is not its target's shape");
    }
    (void)dataset->describe_masks();
  });
  return 0;
}
