// Mask conventions as they come from users' tools: 0/255 binary masks with
// re-encoded edges (written by OpenCV here, by GDAL in cli.mask_conventions),
// class indices, sparse values, 16-bit labels, colour-coded masks, VOC.
#include "io/mask_values.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/confusion_matrix.h"
#include "io/format_registry.h"
#include "io/segmentation_dataset.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

namespace fs = std::filesystem;

// A square of foreground in a 0-background [H, W] mask.
torch::Tensor square_mask(int64_t h, int64_t w, int64_t low, int64_t high) {
  auto m = torch::full({h, w}, low, torch::kInt64);
  m.slice(0, h / 4, h / 2).slice(1, w / 4, w / 2).fill_(high);
  return m;
}

MaskReading decide(const torch::Tensor& raw, ClassTable& classes, const MaskValueOptions& o = {},
                   bool colour = false, bool voc = false,
                   const std::optional<ClassTable>& table = std::nullopt) {
  return decide_mask_reading(count_values(raw), colour, voc, table, o, "masks/", classes);
}

// A folder dataset of `n` images whose masks are written by OpenCV as `ext`.
std::string folder_with_masks(const std::vector<torch::Tensor>& masks, const std::string& ext,
                              torch::Dtype dtype = torch::kUInt8) {
  const auto dir = testing::scratch_dir();
  fs::create_directories(dir + "/images");
  fs::create_directories(dir + "/masks");
  for (size_t i = 0; i < masks.size(); ++i) {
    Image img, m;
    img.pixels = torch::randint(0, 256, {3, masks[i].size(0), masks[i].size(1)}, torch::kInt64)
                     .to(torch::kUInt8);
    m.pixels = masks[i].unsqueeze(0).to(dtype);
    write_image(img, dir + "/images/" + std::to_string(i) + ".png");
    write_image(m, dir + "/masks/" + std::to_string(i) + ext);
  }
  return dir;
}

TEST(MaskValues, ZeroAnd255IsBinaryNotVocIgnore) {
  ClassTable classes;
  const auto r = decide(square_mask(32, 32, 0, 255), classes);
  EXPECT_EQ(r.convention, "binary");
  ASSERT_EQ(classes.size(), 2);
  EXPECT_EQ(classes.classes[1].name, "foreground");
  const auto ids = r.apply(square_mask(32, 32, 0, 255), "m.png");
  EXPECT_TRUE(ids.equal(square_mask(32, 32, 0, 1)));
  EXPECT_TRUE(r.ignored_values.empty());
  // Predictions are written back in the masks' own values.
  EXPECT_TRUE(r.to_values(ids).equal(square_mask(32, 32, 0, 255)));
}

TEST(MaskValues, ReEncodedEdgesGoToTheNearerEnd) {
  auto m = square_mask(40, 40, 0, 255);
  m[10][5] = 1;
  m[10][6] = 3;
  m[15][10] = 254;
  m[15][11] = 250;
  ClassTable classes;
  const auto r = decide(m, classes);
  EXPECT_EQ(r.convention, "binary");
  EXPECT_NE(r.reason.find("4 other values"), std::string::npos) << r.reason;
  const auto ids = r.apply(m, "m.png");
  EXPECT_EQ(ids[10][5].item<int64_t>(), 0);
  EXPECT_EQ(ids[10][6].item<int64_t>(), 0);
  EXPECT_EQ(ids[15][10].item<int64_t>(), 1);
  EXPECT_EQ(ids[15][11].item<int64_t>(), 1);
  // The report names every value with its class.
  const auto text = describe_mask_reading(r, count_values(m), classes);
  EXPECT_NE(text.find("read as binary"), std::string::npos) << text;
  EXPECT_NE(text.find("1 foreground"), std::string::npos) << text;
}

TEST(MaskValues, JpegMaskWithBlurredEdgesReadsAsBinary) {
  // A 0/255 mask saved as JPEG (OpenCV), as users' tools do: ringing at the
  // edges spreads values over the range, but near the ends.
  const auto dir =
      folder_with_masks({square_mask(64, 64, 0, 255), square_mask(64, 64, 0, 255)}, ".jpg");
  const auto data = open_segmentation_dataset(dir);
  EXPECT_EQ(data->mask_reading().convention, "binary") << data->describe_masks();
  ASSERT_EQ(data->classes().size(), 2);
  const auto ids = data->mask(0);
  const auto truth = square_mask(64, 64, 0, 1);
  // Away from the edges the classes are exact.
  EXPECT_TRUE(ids.slice(0, 20, 28).slice(1, 20, 28).equal(truth.slice(0, 20, 28).slice(1, 20, 28)));
  EXPECT_GT(ids.eq(truth).to(torch::kFloat64).mean().item<double>(), 0.98);
}

TEST(MaskValues, IndicesSparseValuesAnd16Bit) {
  ClassTable classes;
  auto m = torch::arange(0, 4, torch::kInt64).repeat({8, 2});  // 0..3 all present
  auto r = decide(m, classes);
  EXPECT_EQ(r.convention, "index");
  EXPECT_EQ(classes.size(), 4);
  EXPECT_TRUE(r.apply(m, "m").equal(m));

  const auto sparse = m * 10;  // 0, 10, 20, 30
  r = decide(sparse, classes);
  EXPECT_EQ(r.convention, "sparse");
  EXPECT_EQ(classes.size(), 4);
  EXPECT_EQ(classes.classes[2].name, "value_20");
  EXPECT_TRUE(r.apply(sparse, "m").equal(m));
  EXPECT_TRUE(r.to_values(m).equal(sparse));
  EXPECT_THROW(r.apply(torch::full({2, 2}, 15, torch::kInt64), "new.png"), std::runtime_error);

  // 16-bit labels keep their values: 0..299 stay ids, the ignore id moves past them.
  MaskValueOptions index;
  index.convention = MaskValueConvention::kIndex;
  const auto big = torch::arange(0, 300, torch::kInt64).view({15, 20});
  r = decide(big, classes, index);
  EXPECT_EQ(classes.size(), 300);
  EXPECT_EQ(classes.ignore_index, 300);
  EXPECT_TRUE(r.apply(big, "m").equal(big));

  // 0/65535 is binary too.
  r = decide(square_mask(16, 16, 0, 65535), classes);
  EXPECT_EQ(r.convention, "binary");
  EXPECT_EQ(r.threshold, 32767);
}

TEST(MaskValues, SixteenBitPngMaskThroughTheDataset) {
  const auto dir = folder_with_masks({square_mask(32, 32, 0, 65535), square_mask(32, 32, 0, 65535)},
                                     ".png", torch::kInt32);
  const auto data = open_segmentation_dataset(dir);
  EXPECT_EQ(data->mask_reading().convention, "binary") << data->describe_masks();
  EXPECT_TRUE(data->mask(1).equal(square_mask(32, 32, 0, 1)));
}

TEST(MaskValues, ColourMasksWithoutAClassTableGetAClassPerColour) {
  auto rgb = torch::zeros({3, 8, 8}, torch::kInt64);
  rgb[0].slice(0, 0, 4).fill_(128);  // (128, 0, 0)
  rgb[1].slice(0, 6, 8).fill_(200);  // (0, 200, 0)
  const auto code = rgb[0] * 65536 + rgb[1] * 256 + rgb[2];
  ClassTable classes;
  const auto r = decide(code, classes, {}, /*colour=*/true);
  EXPECT_EQ(r.convention, "colour");
  ASSERT_EQ(classes.size(), 3);
  EXPECT_EQ(classes.classes[0].name, "background");
  EXPECT_EQ(classes.classes[2].color, (Rgb{128, 0, 0}));  // codes in order: black, green, red
  const auto ids = r.apply(code, "m.png");
  EXPECT_EQ(ids[0][0].item<int64_t>(), 2);
  EXPECT_EQ(ids[7][0].item<int64_t>(), 1);
  EXPECT_EQ(ids[5][0].item<int64_t>(), 0);
}

TEST(MaskValues, AnImageGivenAsMaskIsRefused) {
  const auto photo = torch::randint(0, 256, {64, 64}, torch::kInt64);
  ClassTable classes;
  testing::expect_error([&] { decide(photo, classes); }, "masks/", "look like images");
}

TEST(MaskValues, VocReadingOfABinaryMaskLeavesNothingToLearnAndIsRefused) {
  // The silent failure this replaces: 255 read as VOC's "ignore".
  const auto m = square_mask(32, 32, 0, 255);
  MaskValueOptions voc;
  voc.convention = MaskValueConvention::kVoc;
  ClassTable classes;
  const auto table = ClassTable::from_names({"background", "object"});
  const auto r = decide(m, classes, voc, false, false, table);
  EXPECT_EQ(r.convention, "voc");
  testing::expect_error([&] { check_learnable(r, count_values(m), classes, "masks/"); }, "masks/",
                        "every labelled pixel is class 'background'");
  // A class table whose second class exists only as the ignore value: the same.
  const auto t = decide(m, classes, {}, false, false, table);
  EXPECT_EQ(t.convention, "class table");
  testing::expect_error([&] { check_learnable(t, count_values(m), classes, "masks/"); }, "masks/",
                        "--mask-values binary");
  // --ignore-value none turns the table's ignore off: 255 is then outside it.
  MaskValueOptions none;
  none.ignore_nothing = true;
  EXPECT_TRUE(decide(m, classes, none, false, false, table).ignored_values.empty());
}

TEST(MaskValues, IgnoreValueIsHonouredInEveryConvention) {
  auto m = square_mask(32, 32, 0, 2);
  m[0][0] = 1;
  m.slice(0, 28, 32).fill_(7);  // unlabelled border
  MaskValueOptions o;
  o.ignore_value = 7;
  ClassTable classes;
  const auto r = decide(m, classes, o);
  EXPECT_EQ(r.convention, "index");
  EXPECT_EQ(classes.size(), 3);
  const auto ids = r.apply(m, "m");
  EXPECT_TRUE(ids.slice(0, 28, 32).eq(classes.ignore_index).all().item<bool>());
  EXPECT_EQ(r.class_pixels(count_values(m), classes.size())[2], 8 * 8);
}

TEST(MaskValues, ReadingRoundTripsThroughJson) {
  ClassTable classes;
  const auto r = decide(square_mask(8, 8, 0, 255), classes);
  const nlohmann::json j = r;
  const auto back = j.get<MaskReading>();
  EXPECT_EQ(back.convention, "binary");
  EXPECT_EQ(back.values, r.values);
  EXPECT_EQ(back.threshold, r.threshold);
  EXPECT_THROW(nlohmann::json({{"convention", "guess"}}).get<MaskReading>(), std::runtime_error);
}

TEST(MaskValues, FolderOfBinaryMasksTrainsTwoClassesWithNoIgnoredPixels) {
  const auto dir = folder_with_masks(
      {square_mask(24, 24, 0, 255), square_mask(24, 24, 0, 255), square_mask(24, 24, 0, 255)},
      ".png");
  DatasetOptions o;
  const auto data = open_segmentation_dataset(dir, o);
  EXPECT_EQ(data->layout(), "folders");
  EXPECT_EQ(data->classes().size(), 2);
  const auto e = data->get(0);
  EXPECT_EQ(e.target.eq(data->classes().ignore_index).sum().item<int64_t>(), 0);
  EXPECT_EQ(e.target.sum().item<int64_t>(), 6 * 6);
  const auto pixels = data->class_pixels({0, 1, 2});
  EXPECT_EQ(pixels[1], 3 * 36);
  // A reading given (a trained model's) is used as it is.
  o.reading = DatasetOptions::FixedReading{data->mask_reading(), data->classes()};
  EXPECT_EQ(open_segmentation_dataset(dir, o)->mask_reading().convention, "binary");
}

TEST(MaskValues, AValidationSplitOfOneClassIsWarnedAbout) {
  const auto dir = folder_with_masks(
      {square_mask(16, 16, 0, 255), torch::zeros({16, 16}), torch::zeros({16, 16})}, ".png");
  const auto data = open_segmentation_dataset(dir);
  const auto warning = one_class_validation_warning(*data, {1, 2});
  EXPECT_NE(warning.find("validation split (2 images) is class 'background'"), std::string::npos)
      << warning;
  EXPECT_EQ(one_class_validation_warning(*data, {0, 1}), "");
}

TEST(SegmentationMetrics, AClassNeverScoredCannotReadAHundredPercent) {
  // Validation holds only background and the model predicts only background.
  ConfusionMatrix cm(2, 255);
  cm.add(torch::zeros({4, 4}, torch::kLong), torch::zeros({4, 4}, torch::kLong));
  EXPECT_DOUBLE_EQ(cm.mean_iou(), 1.0);  // what it read before
  cm.expect_classes({0, 1});             // the masks hold foreground elsewhere
  EXPECT_EQ(cm.unscored_classes(), std::vector<int64_t>{1});
  EXPECT_DOUBLE_EQ(cm.mean_iou(), 0.5);
}

}  // namespace
}  // namespace revup
