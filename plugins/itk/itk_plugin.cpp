// Medical images through ITK: NIfTI (.nii, .nii.gz), MetaImage (.mha,
// .mhd), NRRD (.nrrd, .nhdr) and DICOM (dicom_series.h). Images come with
// their spacing, origin and direction; masks are written with the
// reference's, 2D as 2D and 3D as 3D.
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "io/plugin_api.h"
#include "plugins/itk/dicom_series.h"
#include "plugins/itk/itk_conversion.h"
#include "plugins/itk/nifti_check.h"

namespace revup::itk_plugin {
namespace {

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

// `pixels`: [C, H, W] is written as a 2D file, [C, D, H, W] as a volume.
void write_itk(const torch::Tensor& pixels, const Image& reference, const std::string& path) {
  with_tensor_type(pixels.scalar_type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto write = [&](auto image) {
      auto writer = itk::ImageFileWriter<typename decltype(image)::ObjectType>::New();
      writer->SetImageIO(io_for(path));
      writer->SetFileName(path);
      writer->SetInput(image);
      writer->SetUseCompression(true);
      try {
        writer->Update();
      } catch (const itk::ExceptionObject& e) {
        throw std::runtime_error(std::string("ITK could not write it (") + e.GetDescription() +
                                 ")");
      }
    };
    if (pixels.dim() == 3) {
      write(to_itk<T, 2>(pixels.cpu(), reference));
    } else {
      write(to_itk<T, 3>(pixels.cpu(), reference));
    }
  });
}

// ITK's NIfTI, MetaImage and NRRD writers do not report a failed write: on a
// full disk they leave an empty or cut file and throw nothing. So what was
// written is read back (NIfTI through the completeness check) before the
// registry moves it into place.
void verify_written(const torch::Tensor& pixels, const std::string& path) {
  Image back;
  try {
    back = read_itk_file(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the written file reads back incomplete (disk full?): ") +
                             e.what());
  }
  if (back.pixels.numel() != pixels.numel()) {
    throw std::runtime_error("the written file reads back with " +
                             std::to_string(back.pixels.numel()) + " of " +
                             std::to_string(pixels.numel()) + " values (disk full?)");
  }
}

void write_itk_image(const Image& image, const std::string& path) {
  write_itk(image.pixels, image, path);
  verify_written(image.pixels, path);
}

// Masks ([H, W] or [D, H, W]) in the smallest type that holds the ids.
void write_itk_mask(const torch::Tensor& ids, const ClassTable&, const Image& reference,
                    const std::string& path) {
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  torch::Tensor stored;
  if (lo >= 0 && hi <= 255) {
    stored = ids.to(torch::kUInt8);
  } else if (lo >= -32768 && hi <= 32767) {
    stored = ids.to(torch::kInt16);
  } else {
    stored = ids.to(torch::kInt32);
  }
  write_itk(stored.unsqueeze(0), reference, path);
  verify_written(stored.unsqueeze(0), path);
}

}  // namespace
}  // namespace revup::itk_plugin

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }

REVUP_PLUGIN_EXPORT const char* revup_plugin_description() {
  return "ITK " ITK_VERSION_STRING ": NIfTI, MetaImage, NRRD, DICOM files and series; masks";
}

REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry& registry) {
  auto add = [&](const std::string& name, std::vector<std::string> extensions) {
    revup::ImageFormat f;
    f.name = name;
    f.extensions = std::move(extensions);
    f.read = revup::itk_plugin::read_itk_file;
    f.write = revup::itk_plugin::write_itk_image;
    f.write_mask = revup::itk_plugin::write_itk_mask;
    registry.add(f);
  };
  add("nifti", {".nii", ".nii.gz"});
  add("metaimage", {".mha", ".mhd"});
  add("nrrd", {".nrrd", ".nhdr"});
  revup::ImageFormat dicom;
  dicom.name = "dicom-series";
  dicom.extensions = {".dcm"};
  dicom.reads_folders = true;
  dicom.read = revup::itk_plugin::read_dicom;
  registry.add(dicom);
}
