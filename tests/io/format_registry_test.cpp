#include "io/format_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "io/builtin_formats.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

namespace fs = std::filesystem;

FormatRegistry builtins() {
  FormatRegistry r;
  register_builtin_formats(r);
  return r;
}

Image grey(int64_t h, int64_t w, uint8_t value) {
  Image i;
  i.pixels = torch::full({1, h, w}, value, torch::kUInt8);
  return i;
}

TEST(FormatRegistry, BadFilesGiveErrorsNamingTheFile) {
  const auto r = builtins();
  const auto dir = testing::scratch_dir();
  testing::expect_error([&] { read_image(r, dir + "/missing.png"); }, dir + "/missing.png",
                        "file not found");
  const auto empty = testing::write_file(dir + "/empty.png", "");
  testing::expect_error([&] { read_image(r, empty); }, empty, "empty file");
  write_image(r, grey(64, 64, 7), dir + "/whole.png");
  const auto bytes = testing::read_file(dir + "/whole.png");
  const auto cut = testing::write_file(dir + "/cut.png", bytes.substr(0, bytes.size() / 2));
  testing::expect_error([&] { read_image(r, cut); }, cut, "truncated or corrupt");
  const auto junk = testing::write_file(dir + "/junk.png",
                                        std::string(100, 'x') + bytes.substr(bytes.size() - 12));
  testing::expect_error([&] { read_image(r, junk); }, junk, "corrupt");
  const auto odd = testing::write_file(dir + "/data.xyz", "???");
  testing::expect_error([&] { read_image(r, odd); }, odd, "unknown image format '.xyz'");
  testing::expect_error([&] { read_image(r, odd); }, odd, ".png");  // lists what is known
  testing::expect_error([&] { write_image(r, grey(2, 2, 1), dir + "/out.xyz"); }, dir + "/out.xyz",
                        "unknown image format");
}

TEST(FormatRegistry, LongestExtensionWinsAndLatestRegistrationTakesOver) {
  FormatRegistry r;
  ImageFormat a, b, c;
  a.name = "nii";
  a.extensions = {".nii"};
  b.name = "gz";
  b.extensions = {".GZ"};
  c.name = "niigz";
  c.extensions = {".nii.gz"};
  r.add(a);
  r.add(b);
  r.add(c);
  EXPECT_EQ(r.format_for("/x/brain.nii.gz").name, "niigz");
  EXPECT_EQ(r.format_for("/x/BRAIN.NII").name, "nii");
  EXPECT_EQ(r.format_for("/x/a.tar.gz").name, "gz");
  ImageFormat d = a;
  d.name = "nii2";
  r.add(d);
  EXPECT_EQ(r.format_for("b.nii").name, "nii2");
  EXPECT_EQ(r.format_for("b.nii").origin, "built-in");
}

TEST(FormatRegistry, FailedWriteLeavesNoPartialFileAndKeepsTheEarlierOne) {
  const auto r = builtins();
  const auto dir = testing::scratch_dir();
  const auto path = dir + "/result.png";
  write_image(r, grey(8, 8, 42), path);
  const auto before = testing::read_file(path);
  // 5 channels: PNG cannot hold them, the encoder fails mid-write.
  Image bad;
  bad.pixels = torch::zeros({5, 8, 8}, torch::kUInt8);
  testing::expect_error([&] { write_image(r, bad, path); }, path, "could not be written");
  EXPECT_EQ(testing::read_file(path), before);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "a temporary file or folder was left behind";
  // A writer that writes half and then fails.
  FormatRegistry half;
  ImageFormat f;
  f.name = "half";
  f.extensions = {".half"};
  f.write = [](const Image&, const std::string& p) {
    testing::write_file(p, "partial");
    throw std::runtime_error("disk full");
  };
  half.add(f);
  testing::expect_error([&] { write_image(half, grey(2, 2, 1), dir + "/x.half"); }, dir + "/x.half",
                        "disk full");
  EXPECT_FALSE(fs::exists(dir + "/x.half"));
}

TEST(FormatRegistry, UnwritableFolderIsAClearError) {
  const auto r = builtins();
  const auto dir = testing::scratch_dir();
  testing::expect_error([&] { write_image(r, grey(2, 2, 1), dir + "/no/such/folder/a.png"); },
                        dir + "/no/such/folder/a.png", "does not exist");
  fs::create_directory(dir + "/locked");
  testing::write_file(dir + "/locked/a.png", "old");
  fs::permissions(dir + "/locked", fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() == 0) {
    // root writes anywhere; a read-only file system is not at hand either:
    // use a path whose parent is a file instead.
    testing::write_file(dir + "/plainfile", "x");
    testing::expect_error([&] { write_image(r, grey(2, 2, 1), dir + "/plainfile/a.png"); },
                          dir + "/plainfile/a.png", "cannot write");
  } else {
    testing::expect_error([&] { write_image(r, grey(2, 2, 1), dir + "/locked/a.png"); },
                          dir + "/locked/a.png", "could not be written");
  }
  fs::permissions(dir + "/locked", fs::perms::owner_all);
  EXPECT_EQ(testing::read_file(dir + "/locked/a.png"), "old");
}

TEST(FormatRegistry, MaskOfAnotherSizeThanItsImageIsRefused) {
  const auto r = builtins();
  const auto dir = testing::scratch_dir();
  Image ref = grey(4, 5, 0);
  ref.path = "photo.png";
  testing::expect_error(
      [&] {
        write_mask(r, torch::zeros({4, 6}, torch::kInt64), ClassTable::numbered(2), ref,
                   dir + "/m.png");
      },
      dir + "/m.png", "does not match its image photo.png");
  EXPECT_FALSE(fs::exists(dir + "/m.png"));
}

TEST(FormatRegistry, WindowFallbackCropsAndAverages) {
  const auto dir = testing::scratch_dir();
  Image image;
  image.pixels = (torch::arange(16, torch::kInt32) * 2).reshape({1, 4, 4}).to(torch::kUInt8);
  write_image(image, dir + "/w.png");
  const auto w = read_image_window(dir + "/w.png", Window{2, 0, 2, 4, 1, 2});
  EXPECT_EQ(w.pixels.sizes(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(w.pixels[0][0][0].item<int>(), 9);   // mean of 4, 6, 12, 14
  EXPECT_EQ(w.pixels[0][1][0].item<int>(), 25);  // mean of 20, 22, 28, 30
}

}  // namespace
}  // namespace revup
