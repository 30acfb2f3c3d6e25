// A third-party format: ".fake" files are text "height width value", read
// as a one-channel uint8 image filled with `value`.
#include <fstream>
#include <stdexcept>

#include "io/plugin_api.h"

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }
REVUP_PLUGIN_EXPORT const char* revup_plugin_description() { return "fake test format"; }

REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry& registry) {
  revup::ImageFormat f;
  f.name = "fake";
  f.extensions = {".fake"};
  f.read = [](const std::string& path) {
    std::ifstream in(path);
    int64_t h = 0, w = 0, value = 0;
    if (!(in >> h >> w >> value)) throw std::runtime_error("not a fake image");
    revup::Image image;
    image.pixels = torch::full({1, h, w}, value, torch::kUInt8);
    return image;
  };
  f.write = [](const revup::Image& image, const std::string& path) {
    std::ofstream(path) << image.height() << " " << image.width() << " "
                        << image.pixels.max().item<int64_t>() << "\n";
  };
  registry.add(f);
}
