#include "io/segmentation_dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/memory_tracker.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "io/npy.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

namespace fs = std::filesystem;

Image rgb(int64_t h, int64_t w, int seed) {
  torch::manual_seed(seed);
  Image i;
  i.pixels = torch::randint(0, 256, {3, h, w}, torch::kInt64).to(torch::kUInt8);
  return i;
}

void write_ids(const torch::Tensor& ids, const std::string& path) {
  Image m;
  m.pixels = ids.unsqueeze(0).to(torch::kUInt8);
  write_image(m, path);
}

// Layout (a): images/ and masks/ with matching stems, three classes.
std::string make_folder_dataset(const std::string& dir, int n = 4) {
  fs::create_directories(dir + "/images");
  fs::create_directories(dir + "/masks");
  for (int i = 0; i < n; ++i) {
    const std::string stem = "tile" + std::to_string(i);
    write_image(rgb(12, 16, i), dir + "/images/" + stem + ".png");
    write_ids(torch::randint(0, 3, {12, 16}, torch::kInt64), dir + "/masks/" + stem + ".png");
  }
  return dir;
}

TEST(Dataset, SplitIsSeededDisjointAndComplete) {
  const auto s = split_indices(10, 0.3, 7);
  EXPECT_EQ(s.val.size(), 3u);
  EXPECT_EQ(s.train.size(), 7u);
  std::vector<size_t> all = s.train;
  all.insert(all.end(), s.val.begin(), s.val.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(all[i], i);
  EXPECT_EQ(split_indices(10, 0.3, 7).val, s.val);
  EXPECT_NE(split_indices(10, 0.3, 8).val, s.val);
  EXPECT_EQ(split_indices(2, 0.01, 1).val.size(), 1u);  // both sides non-empty
  EXPECT_EQ(split_indices(1, 0.5, 1).val.size(), 0u);
}

TEST(Dataset, FolderLayout) {
  const auto dir = make_folder_dataset(testing::scratch_dir());
  const auto data = open_segmentation_dataset(dir);
  EXPECT_EQ(data->layout(), "folders");
  ASSERT_EQ(data->size(), 4u);
  EXPECT_EQ(data->classes().size(), 3);
  EXPECT_EQ(data->name(0), "tile0");
  const auto e = data->get(1);
  EXPECT_EQ(e.input.scalar_type(), torch::kFloat32);
  EXPECT_EQ(e.input.sizes(), (std::vector<int64_t>{3, 12, 16}));
  // 3 classes and the ignore value 255: one byte a pixel (core/label_ids.h).
  EXPECT_EQ(e.target.scalar_type(), torch::kUInt8);
  EXPECT_EQ(e.target.sizes(), (std::vector<int64_t>{12, 16}));
  EXPECT_TRUE(e.target.equal(data->mask(1).to(torch::kUInt8)));
  // Normalized with statistics of the training split: roughly standard.
  const auto split = data->split();
  EXPECT_EQ(split.train.size() + split.val.size(), 4u);
  EXPECT_EQ(data->stats().mean.size(), 3u);
  EXPECT_LT(std::abs(data->get(split.train[0]).input.mean().item<double>()), 0.5);
  // Given statistics are used as they are.
  DatasetOptions o;
  o.stats = ChannelStats{{0, 0, 0}, {1, 1, 1}};
  const auto raw = open_segmentation_dataset(dir, o);
  EXPECT_TRUE(raw->get(0).input.equal(raw->image(0).pixels.to(torch::kFloat32)));
}

TEST(Dataset, ManifestLayoutWithClassesAndRelativePaths) {
  const auto dir = testing::scratch_dir();
  make_folder_dataset(dir + "/d", 2);
  testing::write_file(dir + "/d/train.json", R"({
    "classes": ["background", {"name": "road", "color": [255, 0, 0]}, "water"],
    "pairs": [{"image": "images/tile0.png", "mask": "masks/tile0.png"},
              {"image": "images/tile1.png", "mask": "masks/tile1.png", "name": "second"}]})");
  const auto data = open_segmentation_dataset(dir + "/d/train.json");
  EXPECT_EQ(data->layout(), "manifest");
  ASSERT_EQ(data->size(), 2u);
  EXPECT_EQ(data->classes().classes[1].color, (Rgb{255, 0, 0}));
  EXPECT_EQ(data->name(1), "second");
  EXPECT_EQ(data->get(0).target.sizes(), (std::vector<int64_t>{12, 16}));
  testing::write_file(dir + "/d/bad.json",
                      R"({"pairs": [{"image": "images/nope.png", "mask": "masks/tile0.png"}]})");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/d/bad.json"); }, "images/nope.png",
                        "file not found");
}

TEST(Dataset, StatsJsonRoundTripAndNodataBecomesIgnore) {
  ChannelStats s{{1.5, 2}, {0.5, 4}};
  const nlohmann::json j = s;
  const auto back = nlohmann::json::parse(j.dump()).get<ChannelStats>();
  EXPECT_EQ(back.mean, s.mean);
  EXPECT_EQ(back.std, s.std);
  Image image;
  image.pixels = torch::tensor({1.0f, 2.0f, -9999.0f, 4.0f}).reshape({1, 2, 2});
  image.nodata = -9999.0;
  ChannelStatsAccumulator acc;
  acc.add(image);
  const auto stats = acc.finish();
  EXPECT_NEAR(stats.mean[0], 7.0 / 3.0, 1e-12);  // the nodata pixel is left out
  const auto x = normalize(image, stats);
  EXPECT_EQ(x[0][1][0].item<float>(), 0.0f);
  EXPECT_FALSE(valid_pixels(image)[1][0].item<bool>());
}

// Per-volume normalization runs inside every training step: its statistics
// and the normalized copy may hold the result and a few chunks, never float64
// copies of the whole volume (at ch2 they were a 3D step's peak: 122 MiB
// above what was live for a 27 MiB volume). An 8M-voxel volume with nodata,
// across chunk boundaries: the same statistics as the plain formula.
TEST(Dataset, PerVolumeStatisticsAndNormalizationNeedNoWholeFloat64Copies) {
  torch::manual_seed(7);
  Image image;
  image.pixels = torch::randn({1, 128, 256, 256}) * 30 + 100;
  image.pixels.view(-1).narrow(0, 1000, 5000).fill_(-1);
  image.nodata = -1.0;
  const c10::Device cpu(c10::DeviceType::CPU);
  MemoryTracker::install_cpu_tracking();
  const std::int64_t volume = image.pixels.nbytes();
  MemoryTracker::reset_peak(cpu);
  const auto before = MemoryTracker::live_bytes(cpu);
  ChannelStatsAccumulator acc;
  acc.add(image);
  const auto stats = acc.finish();
  const auto x = normalize(image, stats);
  const auto peak = MemoryTracker::peak_bytes(cpu) - before;
  // The normalized copy, the valid masks (bytes) and 8 MiB chunks: 1.75 times
  // the volume here; whole-volume float64 copies would be 5 times it or more.
  EXPECT_LT(peak, volume * 5 / 2) << "peak " << peak << " B for a " << volume << " B volume";
  std::printf("statistics and normalization: %.1f MiB above live for a %.1f MiB volume\n",
              static_cast<double>(peak) / (1 << 20), static_cast<double>(volume) / (1 << 20));
  const auto valid = image.pixels.ne(-1);
  const auto v = image.pixels.masked_select(valid).to(torch::kFloat64);
  EXPECT_NEAR(stats.mean[0], v.mean().item<double>(), 1e-9);
  EXPECT_NEAR(stats.std[0], v.std(/*unbiased=*/false).item<double>(), 1e-7);
  EXPECT_NEAR(x.masked_select(valid.expand_as(x)).mean().item<double>(), 0.0, 1e-5);
}

TEST(Dataset, BadInputNamesTheFiles) {
  const auto dir = make_folder_dataset(testing::scratch_dir(), 2);
  // A mask of another size than its image.
  write_ids(torch::zeros({5, 5}, torch::kInt64), dir + "/masks/tile1.png");
  testing::write_file(dir + "/class_names.txt", "_background_\nroad\nwater\n");
  auto data = open_segmentation_dataset(dir);
  testing::expect_error([&] { data->get(1); }, dir + "/masks/tile1.png",
                        "does not match its image");
  // Labels outside the class list.
  write_ids(torch::full({12, 16}, 7, torch::kInt64), dir + "/masks/tile1.png");
  testing::expect_error([&] { data->get(1); }, dir + "/masks/tile1.png",
                        "label 7 is outside the class list");
  // An image without a mask.
  write_image(rgb(12, 16, 9), dir + "/images/lonely.png");
  testing::expect_error([&] { open_segmentation_dataset(dir); }, "lonely.png", "no mask");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/nothing"); }, dir + "/nothing",
                        "not found");
  fs::create_directories(dir + "/empty");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/empty"); }, dir + "/empty",
                        "no dataset layout");
}

TEST(Dataset, NanPixelsAreAnErrorUnlessNodata) {
  const auto dir = testing::scratch_dir();
  fs::create_directories(dir + "/images");
  fs::create_directories(dir + "/masks");
  auto pixels = torch::ones({4, 4}, torch::kFloat32);
  pixels[1][1] = std::nanf("");
  write_npy(pixels, dir + "/images/a.npy");
  auto ids = torch::ones({4, 4}, torch::kInt32);
  ids[0][0] = 0;  // both classes: a mask of one class alone is refused
  write_npy(ids, dir + "/masks/a.npy");
  testing::write_file(dir + "/labels.txt", "bg\nthing\n");
  DatasetOptions o;
  o.stats = ChannelStats{{0}, {1}};
  const auto data = open_segmentation_dataset(dir, o);
  testing::expect_error([&] { data->get(0); }, dir + "/images/a.npy", "NaN or Inf");
}

TEST(Dataset, LabelmeVocExportMatchesNpyAndPaletteColours) {
  const auto voc = testing::labelme_voc();
  ASSERT_FALSE(voc.empty());
  const auto data = open_segmentation_dataset(voc);
  EXPECT_EQ(data->layout(), "voc");
  ASSERT_EQ(data->size(), 3u);
  EXPECT_EQ(data->classes().size(), 21);
  EXPECT_EQ(data->classes().classes[15].name, "person");
  for (size_t i = 0; i < data->size(); ++i) {
    SCOPED_TRACE(data->name(i));
    const auto ids = data->mask(i);
    auto npy = read_npy(voc + "/SegmentationClass/" + data->name(i) + ".npy").to(torch::kInt64);
    npy = npy.masked_fill(npy.lt(0), 255);
    EXPECT_TRUE(ids.equal(npy));
    // The palette PNG, expanded to colours by OpenCV, maps back to the same ids.
    const auto png = read_image(voc + "/SegmentationClassPNG/" + data->name(i) + ".png");
    ASSERT_EQ(png.channels(), 3);
    EXPECT_TRUE(colors_to_ids(png.pixels, data->classes(), png.path).equal(ids));
    const auto e = data->get(i);
    EXPECT_EQ(e.input.sizes().slice(1), ids.sizes());
    EXPECT_GT(ids.gt(0).logical_and(ids.ne(255)).sum().item<int64_t>(), 1000);
  }
}

}  // namespace
}  // namespace revup
