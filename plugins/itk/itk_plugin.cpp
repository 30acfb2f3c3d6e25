// Medical volumes through ITK: NIfTI (.nii, .nii.gz), MetaImage (.mha,
// .mhd), NRRD (.nrrd, .nhdr) and DICOM series (a folder). Volumes come with
// their spacing, origin and direction; label volumes are written with the
// reference's.
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>
#include <itkVectorImage.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "io/plugin_api.h"
#include "plugins/itk/nifti_check.h"

namespace revup {
namespace {

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

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

itk::ImageIOBase::Pointer io_for(const std::string& path) {
  const std::string name = lower(std::filesystem::path(path).filename().string());
  if (ends_with(name, ".nii") || ends_with(name, ".nii.gz")) return itk::NiftiImageIO::New();
  if (ends_with(name, ".mha") || ends_with(name, ".mhd")) return itk::MetaImageIO::New();
  if (ends_with(name, ".nrrd") || ends_with(name, ".nhdr")) return itk::NrrdImageIO::New();
  throw std::runtime_error("no ITK reader for this extension");
}

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

Image read_itk_file(const std::string& path) {
  auto io = io_for(path);
  if (std::string(io->GetNameOfClass()) == "NiftiImageIO") check_nifti_complete(path);
  if (!io->CanReadFile(path.c_str())) {
    throw std::runtime_error(path + ": unreadable or corrupt (" + io->GetNameOfClass() +
                             " cannot read it)");
  }
  try {
    io->SetFileName(path);
    io->ReadImageInformation();
    const int dims = static_cast<int>(io->GetNumberOfDimensions());
    if (dims > 3 && io->GetDimensions(3) > 1) {
      throw std::runtime_error(path + ": 4D images (time series) are not supported");
    }
    return with_read_type(io->GetComponentType(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto reader = itk::ImageFileReader<Volume<T>>::New();
      reader->SetImageIO(io_for(path));
      reader->SetFileName(path);
      reader->Update();
      return to_image<T>(reader->GetOutput(), dims);
    });
  } catch (const itk::ExceptionObject& e) {
    throw std::runtime_error(path + ": unreadable, truncated or corrupt (" + e.GetDescription() +
                             ")");
  }
}

// A folder of DICOM files: its first series, slices ordered by position.
Image read_dicom_series(const std::string& folder) {
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(folder);
    const auto series = names->GetSeriesUIDs();
    if (series.empty()) throw std::runtime_error(folder + ": no DICOM series in this folder");
    const auto files = names->GetFileNames(series.front());
    auto probe = itk::GDCMImageIO::New();
    probe->SetFileName(files.front());
    probe->ReadImageInformation();
    return with_read_type(probe->GetComponentType(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto reader = itk::ImageSeriesReader<Volume<T>>::New();
      reader->SetImageIO(itk::GDCMImageIO::New());
      reader->SetFileNames(files);
      reader->Update();
      Image image = to_image<T>(reader->GetOutput(), 3);
      if (series.size() > 1) image.band_names = {"series " + series.front()};
      return image;
    });
  } catch (const itk::ExceptionObject& e) {
    throw std::runtime_error(folder + ": unreadable DICOM series (" + e.GetDescription() + ")");
  }
}

template <typename T>
typename Volume<T>::Pointer to_volume(const torch::Tensor& cdhw, const Image& reference) {
  const auto data = cdhw.to(dtype_of<T>()).permute({1, 2, 3, 0}).contiguous();  // [z, y, x, c]
  auto volume = Volume<T>::New();
  typename Volume<T>::SizeType size;
  size[0] = data.size(2);
  size[1] = data.size(1);
  size[2] = data.size(0);
  volume->SetRegions(typename Volume<T>::RegionType(size));
  volume->SetNumberOfComponentsPerPixel(static_cast<unsigned>(data.size(3)));
  volume->Allocate();
  std::memcpy(volume->GetBufferPointer(), data.data_ptr(), data.numel() * sizeof(T));
  if (reference.voxels) {
    const auto& g = *reference.voxels;
    typename Volume<T>::SpacingType spacing;
    typename Volume<T>::PointType origin;
    typename Volume<T>::DirectionType direction;
    for (int i = 0; i < 3; ++i) {
      spacing[i] = g.spacing[i];
      origin[i] = g.origin[i];
      for (int j = 0; j < 3; ++j) direction(i, j) = g.direction[i * 3 + j];
    }
    volume->SetSpacing(spacing);
    volume->SetOrigin(origin);
    volume->SetDirection(direction);
  }
  return volume;
}

void write_volume(const torch::Tensor& cdhw, const Image& reference, const std::string& path) {
  with_tensor_type(cdhw.scalar_type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto writer = itk::ImageFileWriter<Volume<T>>::New();
    writer->SetImageIO(io_for(path));
    writer->SetFileName(path);
    writer->SetInput(to_volume<T>(cdhw.cpu(), reference));
    writer->SetUseCompression(true);
    try {
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      throw std::runtime_error(std::string("ITK could not write it (") + e.GetDescription() + ")");
    }
  });
}

// ITK's NIfTI, MetaImage and NRRD writers do not report a failed write: on a
// full disk they leave an empty or cut file and throw nothing. So what was
// written is read back (NIfTI through the completeness check) before the
// registry moves it into place.
void verify_written(const torch::Tensor& cdhw, const std::string& path) {
  Image back;
  try {
    back = read_itk_file(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the written file reads back incomplete (disk full?): ") +
                             e.what());
  }
  if (back.pixels.numel() != cdhw.numel()) {
    throw std::runtime_error("the written file reads back with " +
                             std::to_string(back.pixels.numel()) + " of " +
                             std::to_string(cdhw.numel()) + " values (disk full?)");
  }
}

void write_itk_image(const Image& image, const std::string& path) {
  auto p = image.is_volume() ? image.pixels : image.pixels.unsqueeze(1);
  write_volume(p, image, path);
  verify_written(p, path);
}

// Label volumes in the smallest type that holds the ids.
void write_itk_mask(const torch::Tensor& mask, const ClassTable&, const Image& reference,
                    const std::string& path) {
  auto ids = mask.dim() == 3 ? mask : mask.unsqueeze(0);
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  torch::Tensor stored;
  if (lo >= 0 && hi <= 255) {
    stored = ids.to(torch::kUInt8);
  } else if (lo >= -32768 && hi <= 32767) {
    stored = ids.to(torch::kInt16);
  } else {
    stored = ids.to(torch::kInt32);
  }
  write_volume(stored.unsqueeze(0), reference, path);
  verify_written(stored.unsqueeze(0), path);
}

}  // namespace
}  // namespace revup

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }

REVUP_PLUGIN_EXPORT const char* revup_plugin_description() {
  return "ITK " ITK_VERSION_STRING ": NIfTI, MetaImage, NRRD, DICOM series; label volumes";
}

REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry& registry) {
  auto add = [&](const std::string& name, std::vector<std::string> extensions) {
    revup::ImageFormat f;
    f.name = name;
    f.extensions = std::move(extensions);
    f.read = revup::read_itk_file;
    f.write = revup::write_itk_image;
    f.write_mask = revup::write_itk_mask;
    registry.add(f);
  };
  add("nifti", {".nii", ".nii.gz"});
  add("metaimage", {".mha", ".mhd"});
  add("nrrd", {".nrrd", ".nhdr"});
  revup::ImageFormat dicom;
  dicom.name = "dicom-series";
  dicom.extensions = {".dcm"};
  dicom.reads_folders = true;
  dicom.read = [](const std::string& path) {
    const bool folder = std::filesystem::is_directory(path);
    return revup::read_dicom_series(folder ? path
                                           : std::filesystem::path(path).parent_path().string());
  };
  registry.add(dicom);
}
