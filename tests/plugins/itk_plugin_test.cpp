// The ITK plugin on mricron's templates: the Colin 27 T1 MRI and the AAL atlas.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/format_registry.h"
#include "io/segmentation_dataset.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

const std::string kTemplates = "/usr/share/mricron/templates";

void require_itk() {
  ASSERT_TRUE(REVUP_TEST_HAVE_ITK) << "built without ITK (install libinsighttoolkit5-dev)";
  ASSERT_EQ(default_registry().format_for("x.nii.gz").name, "nifti")
      << "the ITK plugin was not loaded";
  ASSERT_FALSE(testing::require_file({kTemplates + "/ch2.nii.gz", kTemplates + "/aal.nii.gz"},
                                     "install the Debian package mricron-data")
                   .empty());
}

TEST(ItkPlugin, MriAndAtlasShareTheirGrid) {
  require_itk();
  const auto mri = read_image(kTemplates + "/ch2.nii.gz");
  const auto aal = read_image(kTemplates + "/aal.nii.gz");
  ASSERT_TRUE(mri.is_volume());
  EXPECT_EQ(mri.pixels.sizes(), (std::vector<int64_t>{1, 181, 217, 181}));  // [C, z, y, x]
  EXPECT_EQ(aal.pixels.sizes(), mri.pixels.sizes());
  ASSERT_TRUE(mri.voxels && aal.voxels);
  EXPECT_EQ(mri.voxels->spacing, (std::array<double, 3>{1, 1, 1}));
  EXPECT_EQ(mri.voxels->origin, aal.voxels->origin);
  EXPECT_EQ(mri.voxels->direction, aal.voxels->direction);
  EXPECT_EQ(aal.pixels.max().item<int64_t>(), 116);
}

TEST(ItkPlugin, LabelVolumeKeepsSpacingOriginDirection) {
  require_itk();
  auto reference = read_image(kTemplates + "/aal.nii.gz");
  // Make the geometry non-trivial so that a writer ignoring it is caught.
  reference.voxels->spacing = {0.5, 1.25, 2};
  reference.voxels->origin = {-90, 126.5, -72};
  reference.voxels->direction = {0, 1, 0, -1, 0, 0, 0, 0, 1};
  const auto labels = reference.pixels[0].to(torch::kInt64);
  const auto dir = testing::scratch_dir();
  for (const std::string ext : {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd"}) {
    SCOPED_TRACE(ext);
    const auto out = dir + "/labels" + ext;
    write_mask(labels, ClassTable::numbered(117), reference, out);
    const auto back = read_image(out);
    EXPECT_TRUE(back.pixels[0].to(torch::kInt64).equal(labels));
    ASSERT_TRUE(back.voxels.has_value());
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(back.voxels->spacing[i], reference.voxels->spacing[i], 1e-6);
      EXPECT_NEAR(back.voxels->origin[i], reference.voxels->origin[i], 1e-4);
    }
    for (int i = 0; i < 9; ++i) {
      EXPECT_NEAR(back.voxels->direction[i], reference.voxels->direction[i], 1e-6);
    }
  }
  // .mhd's data file was moved next to it, and no temporary folder is left.
  EXPECT_TRUE(std::filesystem::exists(dir + "/labels.zraw") ||
              std::filesystem::exists(dir + "/labels.raw"));
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().rfind(".revup-write", 0), std::string::npos);
  }
}

void expect_geometry(const Image& image, const VoxelGeometry& g) {
  ASSERT_TRUE(image.voxels.has_value());
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(image.voxels->spacing[i], g.spacing[i], 1e-6) << i;
    EXPECT_NEAR(image.voxels->origin[i], g.origin[i], 1e-4) << i;
  }
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(image.voxels->direction[i], g.direction[i], 1e-6) << i;
}

// Issue 13, part 3: a mask keeps its input's dimensionality, size, spacing,
// origin and direction in every format ITK writes: a 2D input gives a 2D mask
// (two sizes, a 2x2 direction), not a volume of one slice.
TEST(ItkPlugin, MasksAreShapedLikeTheirInputs) {
  require_itk();
  Image flat, volume;
  flat.pixels = torch::arange(5 * 6, torch::kInt16).view({1, 5, 6});
  // A 2D file holds two axes; reading pads the third with spacing 1, origin 0.
  flat.voxels = VoxelGeometry{{0.5, 1.25, 1}, {-3, 7, 0}, {0, 1, 0, -1, 0, 0, 0, 0, 1}};
  volume.pixels = torch::arange(4 * 5 * 6, torch::kInt16).view({1, 4, 5, 6});
  volume.voxels = VoxelGeometry{{0.5, 1.25, 2}, {-3, 7, 11}, {0, 1, 0, -1, 0, 0, 0, 0, 1}};
  const auto dir = testing::scratch_dir();
  for (const std::string ext : {".mha", ".mhd", ".nrrd", ".nhdr", ".nii", ".nii.gz"}) {
    for (const Image* made : {&flat, &volume}) {
      const std::string name = made->is_volume() ? "3d" : "2d";
      SCOPED_TRACE(name + ext);
      write_image(*made, dir + "/image" + name + ext);
      const auto input = read_image(dir + "/image" + name + ext);
      ASSERT_EQ(input.pixels.sizes(), made->pixels.sizes());
      expect_geometry(input, *made->voxels);
      const auto mask = input.pixels[0].to(torch::kInt64).remainder(3);
      write_mask(mask, ClassTable::numbered(3), input, dir + "/mask" + name + ext);
      const auto back = read_image(dir + "/mask" + name + ext);
      ASSERT_EQ(back.pixels.sizes(), input.pixels.sizes());
      EXPECT_TRUE(back.pixels[0].to(torch::kInt64).equal(mask));
      expect_geometry(back, *input.voxels);
    }
  }
  // The 2D formats' writers (OpenCV, GDAL) were 2D already and stay so.
  const auto input = read_image(dir + "/image2d.nrrd");
  const auto mask = input.pixels[0].to(torch::kInt64).remainder(3);
  for (const std::string ext : {".png", ".tif"}) {
    if (default_registry().find("x" + ext) == nullptr) continue;
    SCOPED_TRACE(ext);
    write_mask(mask, ClassTable::numbered(3), input, dir + "/mask" + ext);
    const auto back = read_image(dir + "/mask" + ext);
    EXPECT_FALSE(back.is_volume());
    EXPECT_EQ(back.height(), 5);
    EXPECT_EQ(back.width(), 6);
  }
}

TEST(ItkPlugin, FloatVolumesRoundTrip) {
  require_itk();
  Image v;
  v.pixels = torch::randn({1, 4, 5, 6});
  v.voxels = VoxelGeometry{{2, 2, 3}, {1, 2, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
  const auto out = testing::scratch_dir() + "/v.nrrd";
  write_image(v, out);
  const auto back = read_image(out);
  EXPECT_TRUE(back.pixels.equal(v.pixels));
  EXPECT_EQ(back.voxels->spacing, v.voxels->spacing);
}

TEST(ItkPlugin, VolumeDatasetServesLabelledSlices) {
  require_itk();
  const auto dir = testing::scratch_dir();
  testing::write_file(dir + "/brain.json", R"({"volume": ")" + kTemplates +
                                               R"(/ch2.nii.gz", "labels": ")" + kTemplates +
                                               R"(/aal.nii.gz", "axis": 0, "label_names": ")" +
                                               kTemplates + R"(/aal.nii.txt"})");
  DatasetOptions slices;
  slices.dims = 2;
  const auto data = open_segmentation_dataset(dir + "/brain.json", slices);
  EXPECT_EQ(data->layout(), "volume");
  EXPECT_EQ(data->dims(), 2);
  EXPECT_EQ(data->classes().size(), 117);  // background + 116 AAL regions
  EXPECT_EQ(data->classes().classes[1].name, "Precentral_L");
  EXPECT_GT(data->size(), 50u);
  EXPECT_LT(data->size(), 181u);  // slices without labels skipped
  const auto e = data->get(data->size() / 2);
  EXPECT_EQ(e.input.sizes(), (std::vector<int64_t>{1, 217, 181}));
  EXPECT_EQ(e.target.sizes(), (std::vector<int64_t>{217, 181}));
  EXPECT_GT(e.target.gt(0).sum().item<int64_t>(), 0);
  DatasetOptions all = slices;
  all.include_empty_slices = true;
  all.slice_axis = 2;
  all.stats = data->stats();
  EXPECT_EQ(open_segmentation_dataset(dir + "/brain.json", all)->size(), 181u);
  testing::write_file(dir + "/nolabels.json", R"({"volume": ")" + kTemplates + R"(/ch2.nii.gz"})");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/nolabels.json"); },
                        dir + "/nolabels.json", "no label volume");
}

// By default a volume is one example, whole, normalized by its own statistics
// (a 3D model's input); the manifest's "dims" and the options choose slices.
TEST(ItkPlugin, VolumeDatasetServesTheWholeVolumeByDefault) {
  require_itk();
  const auto dir = testing::scratch_dir();
  const std::string common = R"({"volume": ")" + kTemplates + R"(/ch2.nii.gz", "labels": ")" +
                             kTemplates + R"(/aal.nii.gz", "label_names": ")" + kTemplates +
                             R"(/aal.nii.txt")";
  testing::write_file(dir + "/brain.json", common + "}");
  const auto data = open_segmentation_dataset(dir + "/brain.json");
  EXPECT_EQ(data->dims(), 3);
  ASSERT_EQ(data->size(), 1u);
  EXPECT_TRUE(data->stats().per_image);
  const auto e = data->get(0);
  EXPECT_EQ(e.input.sizes(), (std::vector<int64_t>{1, 181, 217, 181}));
  EXPECT_EQ(e.target.sizes(), (std::vector<int64_t>{181, 217, 181}));
  EXPECT_NEAR(e.input.mean().item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(e.input.std().item<double>(), 1.0, 1e-3);
  EXPECT_EQ(e.target.max().item<int64_t>(), 116);
  EXPECT_EQ(data->name(0), "ch2.nii.gz");
  EXPECT_THROW(data->image(1), std::out_of_range);

  // A volume scaled by 3 (another scanner's units) gives the same input.
  auto scaled = read_image(kTemplates + "/ch2.nii.gz");
  EXPECT_TRUE(normalize(scaled, data->stats()).allclose(e.input, 1e-4, 1e-4));
  scaled.pixels = scaled.pixels.to(torch::kFloat) * 3 + 100;
  EXPECT_TRUE(normalize(scaled, data->stats()).allclose(e.input, 1e-4, 1e-4));

  testing::write_file(dir + "/slices.json", common + R"(, "dims": 2})");
  EXPECT_EQ(open_segmentation_dataset(dir + "/slices.json")->dims(), 2);
  DatasetOptions whole;
  whole.dims = 3;
  EXPECT_EQ(open_segmentation_dataset(dir + "/slices.json", whole)->size(), 1u);
  testing::write_file(dir + "/bad.json", common + R"(, "dims": 4})");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/bad.json"); }, dir + "/bad.json",
                        "dims must be 3");
}

// Several volumes in one manifest: each whole (3D) or their labelled slices
// (2D), the classes counted over all of them; a bad entry is named.
TEST(ItkPlugin, VolumeManifestListsSeveralVolumes) {
  require_itk();
  const auto dir = testing::scratch_dir();
  auto write_pair = [&](const std::string& name, int64_t depth, int64_t top_label) {
    Image volume;
    volume.pixels = torch::rand({1, depth, 12, 10});
    volume.voxels = VoxelGeometry{{1.0, 1.0, 2.0}, {0, 0, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
    write_image(volume, dir + "/" + name + ".nii.gz");
    Image labels = volume;
    labels.pixels = torch::zeros({1, depth, 12, 10}, torch::kUInt8);
    labels.pixels.index_put_({0, 1}, top_label);  // slice 1 labelled
    write_image(labels, dir + "/" + name + "_seg.nii.gz");
  };
  write_pair("a", 5, 1);
  write_pair("b", 7, 3);
  testing::write_file(dir + "/two.json", R"({"volumes": [
    {"volume": "a.nii.gz", "labels": "a_seg.nii.gz"},
    {"volume": "b.nii.gz", "labels": "b_seg.nii.gz"}]})");
  const auto whole = open_segmentation_dataset(dir + "/two.json");
  EXPECT_EQ(whole->dims(), 3);
  ASSERT_EQ(whole->size(), 2u);
  EXPECT_EQ(whole->name(1), "b.nii.gz");
  EXPECT_EQ(whole->mask_source(1), dir + "/b_seg.nii.gz");
  EXPECT_EQ(whole->get(1).target.sizes(), (std::vector<int64_t>{7, 12, 10}));
  EXPECT_EQ(whole->classes().size(), 4) << "values 0..3 over both volumes";
  EXPECT_TRUE(whole->stats().per_image);
  EXPECT_THROW(whole->image(2), std::out_of_range);

  DatasetOptions slices;
  slices.dims = 2;
  const auto sliced = open_segmentation_dataset(dir + "/two.json", slices);
  ASSERT_EQ(sliced->size(), 2u) << "slice 1 of each volume";
  EXPECT_EQ(sliced->name(0), "a.nii.gz:axis0:1");
  EXPECT_EQ(sliced->name(1), "b.nii.gz:axis0:1");
  EXPECT_EQ(sliced->get(1).target.max().item<int64_t>(), 3);

  testing::write_file(dir + "/bad.json", R"({"volumes": [
    {"volume": "a.nii.gz", "labels": "a_seg.nii.gz"}, {"volume": "b.nii.gz"}]})");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/bad.json"); }, dir + "/bad.json",
                        "volumes[1] needs \"volume\" and \"labels\"");
  testing::write_file(dir + "/empty.json", R"({"volumes": []})");
  testing::expect_error([&] { open_segmentation_dataset(dir + "/empty.json"); },
                        dir + "/empty.json", "must be a list");
}

TEST(ItkPlugin, DicomSeriesFolder) {
  require_itk();
  // GDCM's example image (X-ray angiography), shipped with ITK's DICOM library.
  const auto example = testing::require_file({"/usr/share/doc/libgdcm3.0/examples/00191113.dcm"},
                                             "comes with libgdcm3.0 (a dependency of ITK)");
  ASSERT_FALSE(example.empty());
  const auto dir = testing::scratch_dir() + "/series";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(example, dir + "/IM0001.dcm");
  const auto image = read_image(dir);  // a folder is a series
  EXPECT_TRUE(image.is_volume());
  EXPECT_GE(image.depth(), 1);
  EXPECT_GT(image.height(), 16);
  EXPECT_GT(image.width(), 16);
  ASSERT_TRUE(image.voxels.has_value());
  EXPECT_GT(image.pixels.to(torch::kFloat).std().item<double>(), 0.0);
  const auto empty = testing::scratch_dir() + "/empty";
  std::filesystem::create_directories(empty);
  testing::expect_error([&] { read_image(empty); }, empty, "no DICOM series");
}

TEST(ItkPlugin, CorruptVolumeNamesTheFile) {
  require_itk();
  const auto bytes = testing::read_file(kTemplates + "/aal.nii.gz");
  const auto cut = testing::write_file(testing::scratch_dir() + "/cut.nii.gz",
                                       bytes.substr(0, bytes.size() / 3));
  testing::expect_error([&] { read_image(cut); }, cut, "");
}

}  // namespace
}  // namespace revup
