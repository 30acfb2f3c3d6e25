#include "io/npy.h"

#include <gtest/gtest.h>

#include "tests/io/test_files.h"

namespace revup {
namespace {

TEST(Npy, RoundTripsEveryWritableType) {
  const auto dir = testing::scratch_dir();
  for (auto dtype : {torch::kUInt8, torch::kInt16, torch::kInt32, torch::kInt64, torch::kFloat32,
                     torch::kFloat64}) {
    const auto a = torch::arange(24).reshape({2, 3, 4}).to(dtype);
    const auto path = dir + "/a.npy";
    write_npy(a, path);
    const auto b = read_npy(path);
    EXPECT_EQ(b.scalar_type(), dtype);
    EXPECT_TRUE(b.equal(a)) << c10::toString(dtype);
  }
}

TEST(Npy, ReadsLabelmeClassArrays) {
  const auto voc = testing::labelme_voc();
  ASSERT_FALSE(voc.empty());
  const auto a = read_npy(voc + "/SegmentationClass/2011_000003.npy");
  EXPECT_EQ(a.scalar_type(), torch::kInt32);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{338, 500}));
  EXPECT_GE(a.min().item<int>(), -1);
  EXPECT_LT(a.max().item<int>(), 21);
  EXPECT_GT(a.gt(0).sum().item<int64_t>(), 1000);  // there are labelled objects
}

TEST(Npy, BadFilesNameTheFile) {
  const auto dir = testing::scratch_dir();
  testing::expect_error([&] { read_npy(dir + "/none.npy"); }, dir + "/none.npy", "not found");
  const auto junk = testing::write_file(dir + "/junk.npy", "PK\x03\x04");
  testing::expect_error([&] { read_npy(junk); }, junk, "not a .npy file");
  write_npy(torch::ones({10, 10}, torch::kInt32), dir + "/full.npy");
  const auto bytes = testing::read_file(dir + "/full.npy");
  const auto cut = testing::write_file(dir + "/cut.npy", bytes.substr(0, bytes.size() - 7));
  testing::expect_error([&] { read_npy(cut); }, cut, "truncated");
}

}  // namespace
}  // namespace revup
