#pragma once
// ITK images <-> RevUp's Image, shared by the file readers and writers
// (itk_plugin.cpp) and the DICOM series reader (dicom_series.cpp). Internal
// to the ITK plugin.
#include <itkImage.h>
#include <itkImageIOBase.h>
#include <itkVectorImage.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "io/image.h"

namespace revup::itk_plugin {

using IOComponent = itk::IOComponentEnum;

template <typename T>
struct Tag {
  using type = T;
};

template <typename T>
torch::Dtype dtype_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return torch::kUInt8;
  if constexpr (std::is_same_v<T, int16_t>) return torch::kInt16;
  if constexpr (std::is_same_v<T, int32_t>) return torch::kInt32;
  if constexpr (std::is_same_v<T, int64_t>) return torch::kInt64;
  if constexpr (std::is_same_v<T, float>) return torch::kFloat32;
  if constexpr (std::is_same_v<T, double>) return torch::kFloat64;
}

// Stored component type -> the type we read it as (lossless; no unsigned
// 16/32-bit types in LibTorch 1.13).
template <typename F>
auto with_read_type(IOComponent c, F&& f) {
  switch (c) {
    case IOComponent::UCHAR:
      return f(Tag<uint8_t>{});
    case IOComponent::CHAR:
    case IOComponent::SHORT:
      return f(Tag<int16_t>{});
    case IOComponent::USHORT:
    case IOComponent::INT:
      return f(Tag<int32_t>{});
    case IOComponent::UINT:
    case IOComponent::LONG:
    case IOComponent::ULONG:
    case IOComponent::LONGLONG:
    case IOComponent::ULONGLONG:
      return f(Tag<int64_t>{});
    case IOComponent::FLOAT:
      return f(Tag<float>{});
    case IOComponent::DOUBLE:
      return f(Tag<double>{});
    default:
      throw std::runtime_error("unsupported voxel type");
  }
}

template <typename F>
auto with_tensor_type(torch::Dtype d, F&& f) {
  switch (d) {
    case torch::kUInt8:
      return f(Tag<uint8_t>{});
    case torch::kInt16:
      return f(Tag<int16_t>{});
    case torch::kInt32:
      return f(Tag<int32_t>{});
    case torch::kInt64:
      return f(Tag<int64_t>{});
    case torch::kFloat32:
      return f(Tag<float>{});
    default:
      return f(Tag<double>{});
  }
}

// Every file is read as a 3D volume (a 2D file as one slice, ITK pads its
// geometry with spacing 1, origin 0 and an identity third axis) and squeezed
// back to [C, H, W] when the file was 2D.
template <typename T>
using Volume = itk::VectorImage<T, 3>;

// ITK's buffer is x fastest, then y, then z, components interleaved:
// [z, y, x, c] -> our [C, D, H, W].
template <typename T>
Image to_image(typename Volume<T>::Pointer volume, int file_dimensions) {
  const auto size = volume->GetLargestPossibleRegion().GetSize();
  const int64_t c = volume->GetNumberOfComponentsPerPixel();
  const int64_t w = size[0], h = size[1], d = size[2];
  const auto zyxc = torch::from_blob(volume->GetBufferPointer(), {d, h, w, c},
                                     torch::TensorOptions().dtype(dtype_of<T>()));
  Image image;
  // clone: with one component permute() is already contiguous, and the
  // ITK buffer dies with the reader.
  image.pixels = zyxc.permute({3, 0, 1, 2}).clone(torch::MemoryFormat::Contiguous);
  VoxelGeometry g;
  for (int i = 0; i < 3; ++i) {
    g.spacing[i] = volume->GetSpacing()[i];
    g.origin[i] = volume->GetOrigin()[i];
    for (int j = 0; j < 3; ++j) g.direction[i * 3 + j] = volume->GetDirection()(i, j);
  }
  image.voxels = g;
  if (file_dimensions == 2) image.pixels = image.pixels.squeeze(1);  // a plain 2D image
  return image;
}

// [C, H, W] (N = 2) or [C, D, H, W] (N = 3) -> an N-dimensional ITK image
// with the reference's geometry. A 2D image keeps the first two axes of
// VoxelGeometry (the 2x2 block of the direction): a 2D input is written 2D,
// not as a volume of one slice.
template <typename T, unsigned N>
typename itk::VectorImage<T, N>::Pointer to_itk(const torch::Tensor& pixels,
                                                const Image& reference) {
  using Out = itk::VectorImage<T, N>;
  std::vector<int64_t> channels_last;
  for (int64_t i = 1; i <= static_cast<int64_t>(N); ++i) channels_last.push_back(i);
  channels_last.push_back(0);
  const auto data = pixels.to(dtype_of<T>()).permute(channels_last).contiguous();  // [.., y, x, c]
  auto out = Out::New();
  typename Out::SizeType size;
  for (unsigned i = 0; i < N; ++i) size[i] = data.size(N - 1 - i);
  out->SetRegions(typename Out::RegionType(size));
  out->SetNumberOfComponentsPerPixel(static_cast<unsigned>(data.size(N)));
  out->Allocate();
  std::memcpy(out->GetBufferPointer(), data.data_ptr(), data.numel() * sizeof(T));
  if (reference.voxels) {
    const auto& g = *reference.voxels;
    typename Out::SpacingType spacing;
    typename Out::PointType origin;
    typename Out::DirectionType direction;
    for (unsigned i = 0; i < N; ++i) {
      spacing[i] = g.spacing[i];
      origin[i] = g.origin[i];
      for (unsigned j = 0; j < N; ++j) direction(i, j) = g.direction[i * 3 + j];
    }
    out->SetSpacing(spacing);
    out->SetOrigin(origin);
    out->SetDirection(direction);
  }
  return out;
}

}  // namespace revup::itk_plugin
