// io/plugin_loader: what the loader checks of a plugin's entry points, and
// read_image of what a plugin's reader returns. The bytes play a plugin: its
// ABI version, description, the formats it registers (names, extensions,
// which functions) and what their readers return or throw. dlopen of random
// bytes is not the target: the entry is called as load() calls it.
#include <filesystem>

#include "io/format_registry.h"
#include "io/plugin_api.h"
#include "io/plugin_loader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace revup;

// The input, consumed from the front; zeros once it runs out.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
  uint8_t next() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::string text(size_t max) {
    std::string s;
    for (size_t n = next() % (max + 1); n > 0; --n) s += static_cast<char>(next());
    return s;
  }
};

Bytes plugin;                    // what the entry points read
std::vector<uint8_t> reader_in;  // what the formats' readers return, copied per format

int abi_version() {
  const uint8_t b = plugin.next();
  return b < 200 ? kPluginAbiVersion : b - 200;
}

const char* description() {
  static std::string text;
  text = plugin.text(16);
  return text.empty() ? nullptr : text.c_str();
}

// What a reader returns: pixels of some dims, sizes and dtype; none; or an
// exception of some kind.
Image fuzzed_image(Bytes in, const std::string& path) {
  const uint8_t what = in.next();
  if (what % 8 == 1) throw std::runtime_error("cannot read " + path);
  if (what % 8 == 2) throw std::invalid_argument("bad file");
  if (what % 8 == 3) throw 42;
  Image image;
  if (what % 8 == 4) return image;  // no pixels
  std::vector<int64_t> shape(in.next() % 6);
  for (auto& s : shape) s = in.next() % 5;
  constexpr torch::Dtype kTypes[] = {torch::kUInt8,   torch::kInt16,   torch::kInt32, torch::kInt64,
                                     torch::kFloat32, torch::kFloat64, torch::kBool};
  image.pixels = torch::zeros(shape, kTypes[in.next() % 7]);
  return image;
}

void register_formats(FormatRegistry& registry) {
  const uint8_t how = plugin.next();
  if (how % 7 == 1) throw std::runtime_error("no licence");
  if (how % 7 == 3) throw 7;
  for (int n = how % 4; n > 0; --n) {
    ImageFormat f;
    f.name = plugin.text(8);
    for (int e = plugin.next() % 3; e > 0; --e) f.extensions.push_back(plugin.text(6));
    const uint8_t functions = plugin.next();
    f.reads_folders = functions & 1;
    const Bytes in{reader_in.data(), reader_in.size()};
    if (functions & 2) f.read = [in](const std::string& p) { return fuzzed_image(in, p); };
    if (functions & 4) {
      f.read_window = [in](const std::string& p, const Window&) { return fuzzed_image(in, p); };
    }
    if (functions & 8) f.write = [](const Image&, const std::string&) {};
    registry.add(std::move(f));
  }
  // After registering: nothing of it may stay.
  if (how % 7 == 2) throw std::runtime_error("half registered");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::init_torch();
  // The last 16 bytes drive the readers, the rest the entry points.
  const size_t split = size > 16 ? size - 16 : 0;
  plugin = Bytes{data, split};
  reader_in.assign(data + split, data + size);
  const uint8_t missing = plugin.next();
  PluginEntry entry;
  if (!(missing & 1)) entry.abi_version = abi_version;
  if (!(missing & 2)) entry.register_formats = register_formats;
  if (!(missing & 4)) entry.description = description;

  FormatRegistry registry;
  PluginLoader loader;
  const auto& record = loader.load(registry, "revup-plugin-fuzz.so", entry);
  if (record.loaded != record.reason.empty()) fuzz::fail("a record neither loaded nor refused");
  if (!record.loaded && !registry.formats().empty()) fuzz::fail("a refused plugin left formats");
  // Every format it registered, as read_image meets it.
  for (const auto& format : registry.formats()) {
    if (format->reads_folders) {
      static const std::string folder = fuzz::scratch_subdir("series");
      fuzz::expect_clear_error(folder, [&] { (void)read_image(registry, folder); });
    }
    for (const auto& ext : format->extensions) {
      const auto path = fuzz::scratch_dir() + "/image" + ext;
      if (path.find('/', fuzz::scratch_dir().size() + 1) != std::string::npos) continue;
      if (path.find('\0') != std::string::npos) continue;
      fuzz::write_text(path, "");
      Image image;
      if (fuzz::expect_clear_error(path, [&] { image = read_image(registry, path); })) {
        if (image.channels() < 1 || image.height() < 0 || image.width() < 0) {
          fuzz::fail("read_image returned an image without channels");
        }
      }
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }
  return 0;
}
