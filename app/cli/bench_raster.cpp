// revup-cli bench raster: how fast a huge raster comes off disk. A viewer
// shows the whole 10000x10000 image (from the file's overviews) and a
// screen-sized window at full resolution; training reads all of it. Issue
// target: a display window in under 50 ms; a full read at decoder speed.
#include <torch/torch.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/bench_common.h"
#include "io/demo_scene.h"
#include "io/format_registry.h"

namespace revup::cli {
namespace {
namespace fs = std::filesystem;

struct RasterBenchOptions {
  std::string input;  // "": generate one
  int64_t size = 10000;
  int repeats = 5;
  std::string json = "bench-raster.json";
};

template <class F>
double median_seconds(int repeats, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return median(t);
}

// A 3-band landscape (the demo scene's generator, tiled to size): compresses
// like real imagery, unlike noise. Georeferenced like a UTM scene, so the
// writer's path is the one a user's GeoTIFF takes.
std::string make_raster(int64_t size, const fs::path& dir) {
  const auto tile =
      make_demo_scene(std::min<int64_t>(size, 2048), std::min<int64_t>(size, 2048), 7);
  const auto reps = (size + tile.image.size(1) - 1) / tile.image.size(1);
  Image image;
  image.pixels =
      tile.image.repeat({1, reps, reps}).slice(1, 0, size).slice(2, 0, size).contiguous();
  image.geo = GeoReference{{500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0}, ""};
  const auto path = (dir / "bench-raster.tif").string();
  std::cerr << "writing a " << size << "x" << size
            << " 3-band GeoTIFF (tiled, DEFLATE, overviews) to " << path << " ...\n";
  write_image(image, path);
  return path;
}

double raw_read_seconds(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 24);
  const auto start = std::chrono::steady_clock::now();
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void run(const RasterBenchOptions& o) {
  const auto dir = fs::temp_directory_path() / ("revup-bench-raster-" + std::to_string(::getpid()));
  std::string path = o.input;
  // The generated raster goes, whatever happens (it is hundreds of MB).
  struct RemoveOnExit {
    fs::path dir;
    ~RemoveOnExit() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove_all(dir, ignored);
    }
  } cleanup;
  if (path.empty()) {
    fs::create_directories(dir);
    cleanup.dir = dir;
    path = make_raster(o.size, dir);
  }
  const auto info = read_image_info(path);
  const int64_t w = info.width, h = info.height;
  const double fit = std::min(1.0, 1024.0 / static_cast<double>(std::max(w, h)));
  const Window overview_window{0,
                               0,
                               w,
                               h,
                               std::max<int64_t>(1, std::llround(w * fit)),
                               std::max<int64_t>(1, std::llround(h * fit))};
  const Window screen_window{
      w / 3, h / 3, std::min<int64_t>(1920, w - w / 3), std::min<int64_t>(1080, h - h / 3), 0, 0};
  Window screen = screen_window;
  screen.out_width = screen.width;
  screen.out_height = screen.height;

  const double open_s = median_seconds(o.repeats, [&] { read_image_info(path); });
  const double whole_s =
      median_seconds(o.repeats, [&] { read_image_window(path, overview_window); });
  const double screen_s = median_seconds(o.repeats, [&] { read_image_window(path, screen); });
  torch::Tensor full;
  const double full_s =
      median_seconds(std::min(o.repeats, 3), [&] { full = read_image(path).pixels; });
  const double raw_s = raw_read_seconds(path);
  const double file_mb = static_cast<double>(fs::file_size(path)) / 1e6;
  const double pixel_mb = static_cast<double>(full.numel() * full.element_size()) / 1e6;

  nlohmann::json report = {
      {"file", o.input.empty() ? "generated" : path},
      {"size", {w, h}},
      {"bands", info.channels},
      {"overviews", info.overview_count},
      {"file_mb", file_mb},
      {"repeats", o.repeats},
      {"open_seconds", open_s},
      {"whole_image_display_seconds", whole_s},
      {"whole_image_display_size", {overview_window.out_width, overview_window.out_height}},
      {"screen_window_seconds", screen_s},
      {"screen_window_size", {screen.width, screen.height}},
      {"full_read_seconds", full_s},
      {"full_read_pixel_mb_per_s", pixel_mb / full_s},
      {"file_read_seconds", raw_s},
      {"file_read_mb_per_s", file_mb / raw_s},
      {"target_display_seconds", 0.05},
      {"target_met", whole_s < 0.05 && screen_s < 0.05},
      {"keys",
       {{"whole_image_display_seconds",
         "median time to read the whole raster at <= 1024 px (from overviews), opening included"},
        {"screen_window_seconds", "a 1920x1080 window at full resolution, opening included"},
        {"full_read_seconds", "every pixel, decoded (what training reads)"},
        {"file_read_seconds", "reading the file's bytes without decoding (page cache warm)"}}}};
  std::printf("%lldx%lld, %lld bands, %d overviews, %.1f MB on disk\n", static_cast<long long>(w),
              static_cast<long long>(h), static_cast<long long>(info.channels), info.overview_count,
              file_mb);
  std::printf("  open                         %7.1f ms\n", 1e3 * open_s);
  std::printf("  whole image for display      %7.1f ms  (%lldx%lld)\n", 1e3 * whole_s,
              static_cast<long long>(overview_window.out_width),
              static_cast<long long>(overview_window.out_height));
  std::printf("  1920x1080 window, full res   %7.1f ms\n", 1e3 * screen_s);
  std::printf("  full read                    %7.2f s   (%.0f MB/s of pixels)\n", full_s,
              pixel_mb / full_s);
  std::printf("  file bytes, no decoding      %7.2f s   (%.0f MB/s)\n", raw_s, file_mb / raw_s);
  std::printf("display target < 50 ms: %s\n", report["target_met"].get<bool>() ? "met" : "NOT met");
  write_json(o.json, report);
  std::cout << "wrote " << o.json << "\n";
}

}  // namespace

void add_bench_raster(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "raster", "Read speed of a huge raster: display windows (overviews) and a full read");
  auto o = std::make_shared<RasterBenchOptions>();
  cmd->add_option("--input", o->input, "A raster to measure (default: generate a GeoTIFF)");
  cmd->add_option("--size", o->size, "Side of the generated raster")
      ->check(CLI::Range(256, 50000))
      ->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "Repeats (the median is reported)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--json", o->json, "Write the results to this JSON file")->capture_default_str();
  cmd->callback([o] { run(*o); });
}

}  // namespace revup::cli
