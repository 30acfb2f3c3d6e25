#include "core/label_ids.h"

#include <algorithm>
#include <limits>

namespace revup {

torch::ScalarType label_dtype(int64_t smallest, int64_t largest) {
  if (smallest >= 0 && largest <= std::numeric_limits<uint8_t>::max()) return torch::kByte;
  if (smallest >= std::numeric_limits<int16_t>::min() &&
      largest <= std::numeric_limits<int16_t>::max())
    return torch::kShort;
  if (smallest >= std::numeric_limits<int32_t>::min() &&
      largest <= std::numeric_limits<int32_t>::max())
    return torch::kInt;
  return torch::kLong;
}

torch::ScalarType label_dtype_for(int64_t classes, int64_t ignore_index) {
  return label_dtype(std::min<int64_t>(0, ignore_index), std::max(classes - 1, ignore_index));
}

torch::Tensor compact_label_ids(const torch::Tensor& ids, int64_t ignore_index) {
  if (ids.numel() == 0) return ids.to(torch::kLong);
  // The range in the ids' own type first: a float of 300 or -1 must not wrap
  // into a uint8 class id. A range int64 cannot hold (NaN, huge floats)
  // stays int64, as before, for the dataset's check to name.
  const auto range = torch::aminmax(ids);
  const double low = std::get<0>(range).item<double>(), high = std::get<1>(range).item<double>();
  constexpr double kInt64Span = 9.2e18;
  if (!(low > -kInt64Span && high < kInt64Span)) return ids.to(torch::kLong);
  return ids.to(label_dtype(std::min(static_cast<int64_t>(low), ignore_index),
                            std::max(static_cast<int64_t>(high), ignore_index)));
}

}  // namespace revup
