#include "io/idx_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace revup {
namespace {

std::string write_file(const std::string& name, const std::string& bytes) {
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string idx_header(int dims, std::initializer_list<int> shape) {
  std::string h = {0, 0, 0x08, static_cast<char>(dims)};
  for (int n : shape) {
    h += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
  }
  return h;
}

void expect_error_naming(const std::string& path, const std::string& problem) {
  try {
    read_idx(path);
    FAIL() << "no error for " << path;
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << what;
  }
}

TEST(Idx, ReadsShapeAndBytes) {
  const auto path = write_file("revup_ok.idx",
                               idx_header(2, {2, 3}) + std::string("\x01\x02\x03\x04\x05\x06", 6));
  const auto t = read_idx(path);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t[1][2].item<int>(), 6);
}

TEST(Idx, BadFilesGiveErrorsNamingTheFile) {
  expect_error_naming("/nonexistent/x.idx", "file not found");
  expect_error_naming(write_file("revup_trunc.idx", idx_header(2, {4, 4}) + "abc"), "truncated");
  expect_error_naming(write_file("revup_magic.idx", "PK\x03\x04zip?"), "not an IDX file");
  expect_error_naming(write_file("revup_float.idx", std::string("\0\0\x0d\x01", 4)),
                      "not unsigned bytes");
  expect_error_naming(write_file("revup_empty.idx", ""), "truncated");
}

TEST(Idx, ImagesAndLabelsMustAgree) {
  const auto images =
      write_file("revup_img.idx", idx_header(3, {2, 2, 2}) + std::string(8, '\x7f'));
  const auto labels = write_file("revup_lab.idx", idx_header(1, {3}) + std::string(3, '\x01'));
  EXPECT_THROW(IdxClassificationDataset(images, labels), std::runtime_error);
  const auto labels2 =
      write_file("revup_lab2.idx", idx_header(1, {2}) + std::string("\x01\x09", 2));
  IdxClassificationDataset data(images, labels2);
  EXPECT_EQ(data.size(), 2u);
  EXPECT_NEAR(data.get(0).input.max().item<double>(), 127.0 / 255.0, 1e-6);
  EXPECT_EQ(data.get(1).target.item<int64_t>(), 9);
}

}  // namespace
}  // namespace revup
