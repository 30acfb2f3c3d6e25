#include "core/label_ids.h"

#include <gtest/gtest.h>

#include <limits>

namespace revup {
namespace {

TEST(LabelIds, TheSmallestTypeThatHoldsTheClassesAndTheIgnoreValue) {
  EXPECT_EQ(label_dtype_for(2, 255), torch::kUInt8);
  EXPECT_EQ(label_dtype_for(117, 255), torch::kUInt8);  // the AAL atlas: 1 byte a voxel
  EXPECT_EQ(label_dtype_for(255, 255), torch::kUInt8);
  EXPECT_EQ(label_dtype_for(300, -1), torch::kInt16);  // manifests move the ignore value to -1
  EXPECT_EQ(label_dtype_for(2, -1), torch::kInt16);
  EXPECT_EQ(label_dtype_for(40000, 255), torch::kInt32);
  EXPECT_EQ(label_dtype(0, int64_t{1} << 40), torch::kInt64);
}

TEST(LabelIds, CompactIdsKeepEveryValueAndNeverWrapAround) {
  const auto ids = torch::tensor({0, 3, 116, 255}, torch::kInt64);
  const auto small = compact_label_ids(ids, 255);
  EXPECT_EQ(small.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(small.to(torch::kInt64).equal(ids));
  // Float label files (NIfTI often stores ids as floats): 300 and -1 must not
  // become 44 and 255.
  const auto floats = torch::tensor({0.0, 300.0, -1.0});
  const auto wide = compact_label_ids(floats, 255);
  EXPECT_EQ(wide.scalar_type(), torch::kInt16);
  EXPECT_TRUE(wide.to(torch::kInt64).equal(torch::tensor({0, 300, -1}, torch::kInt64)));
  // The ignore value the map will be given counts: ids 0..3 with ignore -1.
  EXPECT_EQ(compact_label_ids(torch::tensor({0, 3}), -1).scalar_type(), torch::kInt16);
  // A NaN has no range: left as int64 for the dataset's check to name.
  EXPECT_EQ(compact_label_ids(torch::tensor({0.0, std::numeric_limits<double>::quiet_NaN()}), 255)
                .scalar_type(),
            torch::kInt64);
  EXPECT_EQ(compact_label_ids(torch::zeros({0}), 255).numel(), 0);
}

}  // namespace
}  // namespace revup
