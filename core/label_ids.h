#pragma once
// Label maps keep their class ids (and the ignore value) in the smallest
// integer type that holds them. A label map is as large as its image: as
// int64, ch2's atlas is 54 MiB and a 4K mask 63 MiB, more than the image and
// most of what a training step holds before it starts; as uint8, 7 and 8 MiB.
// The losses widen one band at a time where LibTorch's kernels want int64.
#include <torch/torch.h>

#include <cstdint>

namespace revup {

// The smallest of uint8, int16, int32 and int64 that holds every value in
// [smallest, largest].
torch::ScalarType label_dtype(int64_t smallest, int64_t largest);

// The type of a label map of `classes` classes (ids 0..classes-1) and the
// ignore value: uint8 for up to 255 classes with the default ignore 255.
torch::ScalarType label_dtype_for(int64_t classes, int64_t ignore_index);

// Integer ids (any integer type, or floats holding whole numbers as label
// files often do) in the label_dtype of their range and the ignore value the
// map may be given later. Empty stays empty.
torch::Tensor compact_label_ids(const torch::Tensor& ids, int64_t ignore_index);

}  // namespace revup
