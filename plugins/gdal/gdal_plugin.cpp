// Any GDAL raster in (GeoTIFF first: multi-band, nodata, band descriptions,
// georeferencing, windowed reads using overviews); GeoTIFF out, compressed
// and tiled, with the input's geotransform and CRS.
#include <gdal_priv.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "io/plugin_api.h"

namespace revup {
namespace {

struct DatasetCloser {
  void operator()(GDALDataset* d) const { GDALClose(GDALDataset::ToHandle(d)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

std::string last_error() {
  const char* msg = CPLGetLastErrorMsg();
  return msg && *msg ? std::string(" (") + msg + ")" : std::string();
}

DatasetPtr open(const std::string& path) {
  CPLErrorReset();
  DatasetPtr d(GDALDataset::FromHandle(
      GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  if (!d) throw std::runtime_error(path + ": unreadable or corrupt raster" + last_error());
  if (d->GetRasterCount() < 1) throw std::runtime_error(path + ": has no raster bands");
  return d;
}

// GDAL type -> the dtype we keep it in (no uint16/uint32 in LibTorch 1.13).
std::pair<GDALDataType, torch::Dtype> storage(GDALDataType t, const std::string& path) {
  switch (t) {
    case GDT_Byte:
      return {GDT_Byte, torch::kUInt8};
    case GDT_UInt16:
      return {GDT_Int32, torch::kInt32};
    case GDT_Int16:
      return {GDT_Int16, torch::kInt16};
    case GDT_UInt32:
      return {GDT_Int64, torch::kInt64};
    case GDT_Int32:
      return {GDT_Int32, torch::kInt32};
    case GDT_Float32:
      return {GDT_Float32, torch::kFloat32};
    case GDT_Float64:
      return {GDT_Float64, torch::kFloat64};
    default:
      throw std::runtime_error(path + ": unsupported band type " +
                               std::string(GDALGetDataTypeName(t)));
  }
}

void copy_metadata(GDALDataset& d, Image& image) {
  double t[6];
  if (d.GetGeoTransform(t) == CE_None) {
    GeoReference geo;
    std::copy(t, t + 6, geo.transform.begin());
    if (const char* wkt = d.GetProjectionRef()) geo.crs_wkt = wkt;
    image.geo = geo;
  }
  int has_nodata = 0;
  const double nodata = d.GetRasterBand(1)->GetNoDataValue(&has_nodata);
  if (has_nodata) image.nodata = nodata;
  bool any_name = false;
  for (int b = 1; b <= d.GetRasterCount(); ++b) {
    const char* desc = d.GetRasterBand(b)->GetDescription();
    image.band_names.push_back(desc ? desc : "");
    any_name = any_name || (desc && *desc);
  }
  if (!any_name) image.band_names.clear();
}

Image read_region(const std::string& path, const Window* window) {
  auto d = open(path);
  const int bands = d->GetRasterCount();
  const int w = d->GetRasterXSize(), h = d->GetRasterYSize();
  const auto [gdal_type, dtype] = storage(d->GetRasterBand(1)->GetRasterDataType(), path);
  Window win{0, 0, w, h, w, h};
  if (window) win = *window;
  if (win.x < 0 || win.y < 0 || win.width <= 0 || win.height <= 0 || win.x + win.width > w ||
      win.y + win.height > h) {
    throw std::runtime_error(path + ": window outside the " + std::to_string(w) + "x" +
                             std::to_string(h) + " raster");
  }
  Image image;
  image.pixels =
      torch::empty({bands, win.out_height, win.out_width}, torch::TensorOptions().dtype(dtype));
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  // Reading smaller than the window averages, from overviews when present.
  extra.eResampleAlg = GRIORA_Average;
  CPLErrorReset();
  const CPLErr err = d->RasterIO(
      GF_Read, static_cast<int>(win.x), static_cast<int>(win.y), static_cast<int>(win.width),
      static_cast<int>(win.height), image.pixels.data_ptr(), static_cast<int>(win.out_width),
      static_cast<int>(win.out_height), gdal_type, bands, nullptr, 0, 0, 0, &extra);
  if (err != CE_None)
    throw std::runtime_error(path + ": read failed, truncated or corrupt" + last_error());
  copy_metadata(*d, image);
  if (image.geo && window) {
    auto& t = image.geo->transform;
    const double sx = static_cast<double>(win.width) / win.out_width;
    const double sy = static_cast<double>(win.height) / win.out_height;
    t = {t[0] + win.x * t[1] + win.y * t[2], t[1] * sx, t[2] * sy,
         t[3] + win.x * t[4] + win.y * t[5], t[4] * sx, t[5] * sy};
  }
  image.path = path;
  return image;
}

ImageInfo read_info(const std::string& path) {
  auto d = open(path);
  ImageInfo i;
  i.channels = d->GetRasterCount();
  i.height = d->GetRasterYSize();
  i.width = d->GetRasterXSize();
  i.dtype = storage(d->GetRasterBand(1)->GetRasterDataType(), path).second;
  i.overview_count = d->GetRasterBand(1)->GetOverviewCount();
  return i;
}

// GeoTIFF writer: tiled, DEFLATE-compressed, georeferenced like `reference`.
DatasetPtr create(const std::string& path, int width, int height, int bands, GDALDataType type,
                  const Image& reference) {
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!driver) throw std::runtime_error("GDAL has no GTiff driver");
  char** options = nullptr;
  options = CSLSetNameValue(options, "TILED", "YES");
  options = CSLSetNameValue(options, "BLOCKXSIZE", "256");
  options = CSLSetNameValue(options, "BLOCKYSIZE", "256");
  options = CSLSetNameValue(options, "COMPRESS", "DEFLATE");
  options = CSLSetNameValue(options, "BIGTIFF", "IF_SAFER");
  if (bands > 1) options = CSLSetNameValue(options, "INTERLEAVE", "BAND");
  CPLErrorReset();
  DatasetPtr d(driver->Create(path.c_str(), width, height, bands, type, options));
  CSLDestroy(options);
  if (!d) throw std::runtime_error("cannot create GeoTIFF" + last_error());
  if (reference.geo) {
    double t[6];
    std::copy(reference.geo->transform.begin(), reference.geo->transform.end(), t);
    d->SetGeoTransform(t);
    if (!reference.geo->crs_wkt.empty()) d->SetProjection(reference.geo->crs_wkt.c_str());
  }
  return d;
}

// Reduced copies (2, 4, 8, ... down to ~256 px) inside the file, so a
// viewer shows a huge raster without reading all of it.
void add_overviews(GDALDataset& d, const char* resampling) {
  std::vector<int> levels;
  for (int f = 2; std::max(d.GetRasterXSize(), d.GetRasterYSize()) / f >= 256; f *= 2) {
    levels.push_back(f);
  }
  if (levels.empty()) return;
  if (d.BuildOverviews(resampling, static_cast<int>(levels.size()), levels.data(), 0, nullptr,
                       nullptr, nullptr) != CE_None) {
    throw std::runtime_error("building overviews failed" + last_error());
  }
}

void finish(DatasetPtr d, const std::string& path) {
  CPLErrorReset();
  d->FlushCache();
  const bool failed = CPLGetLastErrorType() >= CE_Failure;
  GDALClose(GDALDataset::ToHandle(d.release()));
  if (failed || CPLGetLastErrorType() >= CE_Failure) {
    throw std::runtime_error("writing " + path + " failed" + last_error());
  }
}

void write_geotiff(const Image& image, const std::string& path) {
  if (image.is_volume()) throw std::runtime_error("GeoTIFF holds 2D rasters, not volumes");
  auto pixels = image.pixels.contiguous().cpu();
  GDALDataType type = GDT_Float64;
  switch (pixels.scalar_type()) {
    case torch::kUInt8:
      type = GDT_Byte;
      break;
    case torch::kInt16:
      type = GDT_Int16;
      break;
    case torch::kInt32:
      type = GDT_Int32;
      break;
    case torch::kFloat32:
      type = GDT_Float32;
      break;
    default:
      pixels = pixels.to(torch::kFloat64);
      break;
  }
  auto d = create(path, static_cast<int>(image.width()), static_cast<int>(image.height()),
                  static_cast<int>(image.channels()), type, image);
  if (d->RasterIO(GF_Write, 0, 0, static_cast<int>(image.width()), static_cast<int>(image.height()),
                  pixels.data_ptr(), static_cast<int>(image.width()),
                  static_cast<int>(image.height()), type, static_cast<int>(image.channels()),
                  nullptr, 0, 0, 0, nullptr) != CE_None) {
    throw std::runtime_error("writing pixels failed" + last_error());
  }
  for (int b = 1; b <= d->GetRasterCount(); ++b) {
    if (image.nodata) d->GetRasterBand(b)->SetNoDataValue(*image.nodata);
    if (static_cast<size_t>(b) <= image.band_names.size()) {
      d->GetRasterBand(b)->SetDescription(image.band_names[b - 1].c_str());
    }
  }
  add_overviews(*d, "AVERAGE");
  finish(std::move(d), path);
}

// Class ids as one Byte band (UInt16 past 255 classes) with the classes'
// colours and names, the ignore value as nodata: GIS tools show it as is.
void write_geotiff_mask(const torch::Tensor& mask, const ClassTable& classes,
                        const Image& reference, const std::string& path) {
  if (mask.dim() != 2) throw std::runtime_error("GeoTIFF masks are 2D");
  const bool byte =
      classes.size() <= 255 && classes.ignore_index >= 0 && classes.ignore_index <= 255;
  auto ids = mask.to(byte ? torch::kUInt8 : torch::kInt32).contiguous().cpu();
  const GDALDataType type = byte ? GDT_Byte : GDT_UInt16;
  if (!byte) ids = ids.clamp(0, 65535);
  const int w = static_cast<int>(mask.size(1)), h = static_cast<int>(mask.size(0));
  auto d = create(path, w, h, 1, type, reference);
  GDALRasterBand* band = d->GetRasterBand(1);
  if (band->RasterIO(GF_Write, 0, 0, w, h, ids.data_ptr(), w, h, byte ? GDT_Byte : GDT_Int32, 0, 0,
                     nullptr) != CE_None) {
    throw std::runtime_error("writing the mask failed" + last_error());
  }
  if (classes.ignore_index >= 0) band->SetNoDataValue(static_cast<double>(classes.ignore_index));
  if (byte) {
    GDALColorTable colors;
    for (int64_t i = 0; i < classes.size(); ++i) {
      const auto& c = classes.classes[i].color;
      GDALColorEntry e{c[0], c[1], c[2], 255};
      colors.SetColorEntry(static_cast<int>(i), &e);
    }
    band->SetColorTable(&colors);
  }
  char** names = nullptr;
  for (const auto& c : classes.classes) names = CSLAddString(names, c.name.c_str());
  band->SetCategoryNames(names);
  CSLDestroy(names);
  add_overviews(*d, "MODE");  // the most frequent class, never a blend of ids
  finish(std::move(d), path);
}

}  // namespace
}  // namespace revup

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }

REVUP_PLUGIN_EXPORT const char* revup_plugin_description() {
  static std::string d = std::string("GDAL ") + GDALVersionInfo("RELEASE_NAME") +
                         ": GeoTIFF and other rasters, georeferenced masks";
  return d.c_str();
}

REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry& registry) {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    // Errors reach the user as exceptions naming the file (last_error());
    // GDAL printing them to stderr as well would only repeat them.
    CPLSetErrorHandler(CPLQuietErrorHandler);
  });
  revup::ImageFormat geotiff;
  geotiff.name = "gdal-geotiff";
  geotiff.extensions = {".tif", ".tiff", ".gtif"};
  geotiff.read = [](const std::string& p) { return revup::read_region(p, nullptr); };
  geotiff.read_window = [](const std::string& p, const revup::Window& w) {
    return revup::read_region(p, &w);
  };
  geotiff.info = revup::read_info;
  geotiff.write = revup::write_geotiff;
  geotiff.write_mask = revup::write_geotiff_mask;
  registry.add(geotiff);

  // Other rasters GDAL reads: read-only here (masks for them go to .tif).
  revup::ImageFormat other = geotiff;
  other.name = "gdal";
  other.extensions = {".vrt", ".img",  ".jp2", ".asc", ".nc",
                      ".ers", ".sdat", ".rst", ".kea", ".hdf"};
  other.write = nullptr;
  other.write_mask = nullptr;
  registry.add(other);
}
