// The built-in demo scene is what `./revup.sh demo` trains on: it must be the
// same everywhere and contain every class.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/demo_scene.h"

namespace revup {
namespace {

TEST(DemoScene, IsDeterministicAndHoldsEveryClass) {
  const auto a = make_demo_scene(216, 384, 1);
  const auto b = make_demo_scene(216, 384, 1);
  const auto c = make_demo_scene(216, 384, 2);
  EXPECT_TRUE(a.image.equal(b.image));
  EXPECT_TRUE(a.mask.equal(b.mask));
  EXPECT_FALSE(a.mask.equal(c.mask));
  EXPECT_EQ(a.image.sizes(), (std::vector<int64_t>{3, 216, 384}));
  EXPECT_EQ(a.image.dtype(), torch::kUInt8);
  const auto counts = torch::bincount(a.mask.reshape(-1), {}, 5);
  for (int k = 0; k < 5; ++k) EXPECT_GT(counts[k].item<int64_t>(), 0) << a.class_names[k];
  EXPECT_THROW(make_demo_scene(10, 10, 0), std::invalid_argument);
}

}  // namespace
}  // namespace revup
