// DICOM as it comes (issue 13, part 2): a folder holding two series, files
// GDCM cannot decode, two on which GDCM 3.0 aborts, a truncated file, a
// structured report without pixels, a multi-frame file and a text file
// (written by make_dicom_folder.py with Debian's python3-pydicom). The reads
// run in this process: if GDCM aborts in it, the test binary dies, which is
// the failure this guards against.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "io/format_registry.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

// A fresh folder for each test ("" and a failure when it cannot be made).
std::string dicom_export() {
  EXPECT_TRUE(REVUP_TEST_HAVE_ITK) << "built without ITK (install libinsighttoolkit5-dev)";
  const auto* format = default_registry().find("x.dcm");
  EXPECT_TRUE(format != nullptr && format->reads_folders) << "the ITK plugin was not loaded";
  const std::string dir = testing::scratch_dir() + "/export";
  const std::string command =
      "/usr/bin/python3 " REVUP_TEST_SOURCE_DIR "/io/make_dicom_folder.py '" + dir + "'";
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << command << " failed: install python3-pydicom (./revup.sh deps)";
  return format && rc == 0 ? dir : "";
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Series A's slice k (by position) holds 100 * k + row.
torch::Tensor series_a() {
  return (torch::arange(3).view({3, 1, 1}) * 100 + torch::arange(16).view({1, 16, 1}))
      .expand({3, 16, 16});
}

TEST(DicomFolder, FileReadsItsOwnSeriesInPositionOrder) {
  const auto dir = dicom_export();
  ASSERT_FALSE(dir.empty());
  const auto a = read_image(dir + "/a1.dcm");  // a1 is the last slice by position
  ASSERT_EQ(a.pixels.sizes(), (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_TRUE(a.pixels[0].to(torch::kInt64).equal(series_a()));
  ASSERT_TRUE(a.voxels.has_value());
  EXPECT_NEAR(a.voxels->spacing[0], 0.5, 1e-6);
  EXPECT_NEAR(a.voxels->spacing[2], 2.0, 1e-6);
  EXPECT_NEAR(a.voxels->origin[2], 0.0, 1e-6);
  const auto wa = joined(a.warnings);
  EXPECT_NE(wa.find("a4-broken.dcm (GDCM cannot read it"), std::string::npos) << wa;
  EXPECT_NE(wa.find("a5-bits12.dcm (GDCM crashed reading it"), std::string::npos) << wa;
  EXPECT_EQ(wa.find("b3-cut.dcm"), std::string::npos) << wa;  // of another series: no word

  const auto b = read_image(dir + "/b2.dcm");
  ASSERT_EQ(b.pixels.sizes(), (std::vector<int64_t>{1, 2, 12, 8}));
  EXPECT_TRUE(b.pixels.eq(7).all().item<bool>());
  const auto wb = joined(b.warnings);
  EXPECT_NE(wb.find("b3-cut.dcm (its pixel data is cut short"), std::string::npos) << wb;
  EXPECT_NE(wb.find("b4-palette.dcm (GDCM crashed reading it"), std::string::npos) << wb;
  EXPECT_EQ(wb.find("a4-broken.dcm"), std::string::npos) << wb;
}

TEST(DicomFolder, FolderReadsTheSeriesWithTheMostFilesAndNamesTheRest) {
  const auto dir = dicom_export();
  ASSERT_FALSE(dir.empty());
  const auto image = read_image(dir);
  ASSERT_EQ(image.pixels.sizes(), (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_TRUE(image.pixels[0].to(torch::kInt64).equal(series_a()));
  const auto w = joined(image.warnings);
  EXPECT_NE(w.find("the most files"), std::string::npos) << w;
  for (const std::string other : {"b1.dcm", "b2.dcm", "multi.dcm"}) {
    EXPECT_NE(w.find(other), std::string::npos) << other << " not named in:\n" << w;
  }
  for (const std::string bad : {"a4-broken.dcm", "a5-bits12.dcm", "b3-cut.dcm", "b4-palette.dcm",
                                "report.dcm", "notes.txt"}) {
    EXPECT_NE(w.find(bad + " ("), std::string::npos) << bad << " not named in:\n" << w;
  }
}

TEST(DicomFolder, MultiFrameFileIsAVolume) {
  const auto dir = dicom_export();
  ASSERT_FALSE(dir.empty());
  const auto m = read_image(dir + "/multi.dcm");
  ASSERT_EQ(m.pixels.sizes(), (std::vector<int64_t>{1, 4, 16, 16}));
  // Frame k holds 10 * k + column.
  const auto expected = (torch::arange(4).view({4, 1, 1}) * 10 + torch::arange(16).view({1, 1, 16}))
                            .expand({4, 16, 16});
  EXPECT_TRUE(m.pixels[0].to(torch::kInt64).equal(expected));
}

TEST(DicomFolder, FilesThatCannotBeReadGiveErrorsNamingThem) {
  const auto dir = dicom_export();
  ASSERT_FALSE(dir.empty());
  const std::vector<std::pair<std::string, std::string>> unreadable = {
      {"a4-broken.dcm", "GDCM cannot read it"},
      {"a5-bits12.dcm", "GDCM crashed reading it (Aborted)"},
      {"b3-cut.dcm", "cut short"},
      {"b4-palette.dcm", "GDCM crashed reading it (Aborted)"},
      {"report.dcm", "not an image"}};
  for (const auto& file : unreadable) {
    const auto path = dir + "/" + file.first;
    testing::expect_error([&] { read_image(path); }, path, file.second);
  }
  // Nothing readable at all: the folder is named with what was wrong.
  const auto bad = std::filesystem::path(dir).parent_path().string() + "/bad";
  std::filesystem::create_directories(bad);
  std::filesystem::copy_file(dir + "/report.dcm", bad + "/report.dcm");
  testing::expect_error([&] { read_image(bad); }, bad,
                        "no DICOM series in this folder (report.dcm");
}

}  // namespace
}  // namespace revup
