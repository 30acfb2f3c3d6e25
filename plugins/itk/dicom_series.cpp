#include "plugins/itk/dicom_series.h"

#include <itkGDCMImageIO.h>
#include <itkImageFileReader.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "plugins/itk/dicom_probe.h"
#include "plugins/itk/itk_conversion.h"

namespace revup::itk_plugin {
namespace {

namespace fs = std::filesystem;
using Files = std::vector<const DicomProbe*>;

// Every regular file of the folder but hidden ones (.DS_Store and the like):
// DICOM files often have no extension. In name order, so that every choice
// below is the same on every machine.
std::vector<std::string> folder_files(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    if (e.is_regular_file(ec) && e.path().filename().string().rfind('.', 0) != 0) {
      files.push_back(e.path().string());
    }
  }
  if (ec) throw std::runtime_error(folder + ": cannot list the folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  return files;
}

std::string name_of(const DicomProbe* p) { return fs::path(p->path).filename().string(); }

// "a.dcm, b.dcm and 3 more": a warning stays readable for a folder of 500.
std::string names(const Files& files, bool with_problems, size_t at_most = 8) {
  std::string out;
  for (size_t i = 0; i < files.size() && i < at_most; ++i) {
    out += (i == 0 ? "" : ", ") + name_of(files[i]);
    if (with_problems) out += " (" + files[i]->problem + ")";
  }
  if (files.size() > at_most) out += " and " + std::to_string(files.size() - at_most) + " more";
  return out;
}

std::string plural(size_t n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// Slices along the normal of their orientation (what GDCM's IPPSorter does),
// without positions by Instance Number, then by name.
Files in_position_order(Files slices) {
  const auto& o = slices.front()->orientation;
  const std::array<double, 3> normal{o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                                     o[0] * o[4] - o[1] * o[3]};
  const bool positions = std::all_of(slices.begin(), slices.end(),
                                     [](const DicomProbe* p) { return p->has_position; });
  auto key = [&](const DicomProbe* p) {
    if (!positions) return static_cast<double>(p->instance);
    return p->position[0] * normal[0] + p->position[1] * normal[1] + p->position[2] * normal[2];
  };
  std::stable_sort(slices.begin(), slices.end(),
                   [&](const DicomProbe* a, const DicomProbe* b) { return key(a) < key(b); });
  return slices;
}

// Only files the probe read in full get here: GDCM has read each once already.
Image read_files(const std::vector<std::string>& files) {
  auto header = itk::GDCMImageIO::New();
  header->SetFileName(files.front());
  header->ReadImageInformation();
  return with_read_type(header->GetComponentType(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (files.size() == 1) {  // one slice, or the frames of a multi-frame file
      auto reader = itk::ImageFileReader<Volume<T>>::New();
      reader->SetImageIO(itk::GDCMImageIO::New());
      reader->SetFileName(files.front());
      reader->Update();
      return to_image<T>(reader->GetOutput(), 3);
    }
    auto reader = itk::ImageSeriesReader<Volume<T>>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(files);
    reader->Update();
    return to_image<T>(reader->GetOutput(), 3);
  });
}

struct Choice {
  Files slices;
  std::vector<std::string> warnings;
};

// Which files of the probed folder make the image, and what to tell the user.
// `path`: the file opened as the folder listing spells it ("" for a folder).
Choice choose(const std::string& path, const std::string& dir,
              const std::vector<DicomProbe>& probes) {
  const bool folder = path.empty();
  std::map<std::string, Files> series;
  Files skipped;
  for (const auto& p : probes) (p.readable ? series[p.series_uid] : skipped).push_back(&p);
  Choice c;
  std::string uid;
  if (folder) {
    if (series.empty()) {
      throw std::runtime_error(dir + ": no DICOM series in this folder" +
                               (skipped.empty() ? "" : " (" + names(skipped, true) + ")"));
    }
    // The most files; on a tie the smallest UID (std::map's order).
    uid = std::max_element(series.begin(), series.end(), [](const auto& a, const auto& b) {
            return a.second.size() < b.second.size();
          })->first;
    if (series.size() > 1) {
      std::string others;
      for (const auto& [u, files] : series) {
        if (u != uid) others += "; " + u + " (" + names(files, false) + ")";
      }
      c.warnings.push_back(dir + ": holds " + std::to_string(series.size()) +
                           " series; read the one with the most files, " + uid + " (" +
                           plural(series[uid].size(), "file") + "), not" + others.substr(1));
    }
  } else {
    const auto me = std::find_if(probes.begin(), probes.end(),
                                 [&](const DicomProbe& p) { return p.path == path; });
    if (!me->readable) throw std::runtime_error(path + ": " + me->problem);
    uid = me->series_uid;
    // Only what may have belonged to this series is worth a word.
    skipped.erase(std::remove_if(skipped.begin(), skipped.end(),
                                 [&](const DicomProbe* p) {
                                   return !p->series_uid.empty() && p->series_uid != uid;
                                 }),
                  skipped.end());
  }
  if (!skipped.empty()) {
    c.warnings.push_back(dir + ": skipped " + plural(skipped.size(), "file") +
                         " that cannot be read: " + names(skipped, true));
  }
  c.slices = in_position_order(series[uid]);
  // Multi-frame files are volumes of their own: they do not stack.
  if (c.slices.size() > 1 &&
      std::any_of(c.slices.begin(), c.slices.end(), [](auto* p) { return p->frames > 1; })) {
    auto keep = std::find_if(c.slices.begin(), c.slices.end(),
                             [&](auto* p) { return folder ? p->frames > 1 : p->path == path; });
    c.warnings.push_back(dir + ": series " + uid + " holds multi-frame files, which do not " +
                         "stack; read only " + name_of(*keep));
    c.slices = {*keep};
  }
  return c;
}

}  // namespace

Image read_dicom(const std::string& path) {
  const bool folder = fs::is_directory(path);
  std::string dir = folder ? path : fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto files = folder_files(dir);
  // The file opened, spelled as the listing spells it ("./a.dcm" for "a.dcm").
  const std::string file = folder ? "" : (fs::path(dir) / fs::path(path).filename()).string();
  if (!folder && std::find(files.begin(), files.end(), file) == files.end()) {
    files.push_back(file);  // a hidden file opened by name
  }
  if (files.empty()) throw std::runtime_error(dir + ": no DICOM series in this folder");
  const auto probes = probe_dicom_files(files);
  const Choice choice = choose(file, dir, probes);
  std::vector<std::string> slices;
  for (const auto* p : choice.slices) slices.push_back(p->path);
  try {
    Image image = read_files(slices);
    image.warnings = choice.warnings;
    return image;
  } catch (const itk::ExceptionObject& e) {
    throw std::runtime_error((folder ? dir : path) + ": unreadable DICOM series (" +
                             e.GetDescription() + ")");
  }
}

}  // namespace revup::itk_plugin
