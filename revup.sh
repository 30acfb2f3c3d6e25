#!/usr/bin/env bash
# RevUp Studio bootstrap: installs what is missing, configures, builds, runs.
#   ./revup.sh test    build everything and run every test (what CI runs)
#   ./revup.sh demo    build and run the demonstration on built-in data
#   ./revup.sh build   only build
#   ./revup.sh deps    only install the Debian packages
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

# Debian 12 packages and why each is needed.
PACKAGES=(
  cmake ninja-build g++ ccache  # the build (ccache only speeds up rebuilds)
  libtorch-dev                  # LibTorch 1.13: the core, models, everything
  libopenblas0-openmp           # LibTorch's recommended BLAS; the reference BLAS makes
                                #   matrix products several times slower (OpenMP build:
                                #   shares LibTorch's threads instead of adding its own)
  libcli11-dev                  # revup-cli's argument parsing
  nlohmann-json3-dev            # model configs and benchmark JSON
  zlib1g-dev                    # reading gzip-compressed IDX (Fashion-MNIST)
  libopencv-dev                 # PNG plots now; image readers next
  libgtest-dev                  # the test suite
  qt6-base-dev qt6-charts-dev   # the desktop application (revup) and its charts
  libqt6opengl6-dev             #   Qt Charts' CMake package requires Qt's OpenGL module
  libonnx-dev                   # ONNX export (io/onnx_export): the model built with ONNX's
                                #   protobuf classes and its checker; OpenCV's DNN (in
                                #   libopencv-dev) reads every export back
  python3-torch                 # tests: Python loads our TorchScript and weights exports
                                #   and reproduces the C++ outputs (cli.python_consumers)
  dataset-fashion-mnist         # real data for train-classifier (the Table 2 comparison)
  libgdal-dev                   # plugins/gdal: GeoTIFF and other rasters, georeferenced masks
  libinsighttoolkit5-dev        # plugins/itk: NIfTI, MetaImage, NRRD, DICOM series
  labelme-examples              # real photos with class masks in VOC layout (dataset tests)
  mricron-data                  # real T1 MRI (ch2.nii.gz) with the AAL atlas on its grid
  python3-nibabel               # real-data tests: read back the predicted NIfTI's spacing,
                                #   origin and direction independently of ITK
  python3-gdal                  # real-data tests: derive labels for the Landsat GeoTIFF and
                                #   read back the predicted GeoTIFF's geotransform and CRS
                                #   (both pull in python3-numpy)
  python3-pydicom               # tests: write the DICOM export folder (two series, files
                                #   GDCM cannot decode, a report without pixels, multi-frame)
                                #   that the ITK plugin's DICOM reading is tested on
)
# Not installed but unpacked: r-cran-stars carries a real Landsat GeoTIFF
# (L7_ETMs.tif, 6 bands, UTM) and installing it would pull in all of R.
DOWNLOADED_FILES=(
  "r-cran-stars:usr/lib/R/site-library/stars/tif/L7_ETMs.tif"
)
DATA_DIR="$ROOT/build/data"  # where the tests look for them

log() { printf '\033[1m[revup]\033[0m %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# apt-get download + dpkg-deb -x: the one file, no dependencies, no root.
fetch_files() {
  local entry pkg file tmp
  for entry in "${DOWNLOADED_FILES[@]}"; do
    pkg=${entry%%:*}
    file=${entry#*:}
    [[ -f "$DATA_DIR/$(basename "$file")" ]] && continue
    log "fetching $(basename "$file") from the Debian package $pkg"
    tmp=$(mktemp -d)
    chmod 755 "$tmp"  # apt downloads as the _apt user where it can
    (cd "$tmp" && apt-get download -q "$pkg" >/dev/null && dpkg-deb -x ./*.deb x)
    mkdir -p "$DATA_DIR"
    cp "$tmp/x/$file" "$DATA_DIR/"
    rm -rf "$tmp"
  done
}

build() {
  install_missing
  fetch_files
  # ccache keys on paths and, with precompiled headers, needs these sloppiness settings.
  export CCACHE_BASEDIR="$ROOT"
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  if [[ ! -f build/build.ninja ]]; then
    log "configuring (preset release) into build/"
    cmake --preset release >/dev/null
  fi
  log "building with Ninja"
  cmake --build --preset release
}

run_tests() {
  build
  log "running the tests (ctest)"
  ctest --preset release --timeout 1200
}

run_demo() {
  build
  # The product's main job on built-in data: a generated 4K scene with ground
  # truth, a few minutes of full-resolution training on the CPU, mIoU before and
  # after, peak memory against ResNet+Fixup, an overlay and a memory plot.
  build/bin/revup-cli demo --out "$ROOT/runs/demo" "$@"
}

case "${1:-}" in
  test) run_tests ;;
  demo) shift; run_demo "$@" ;;
  build) build ;;
  deps) install_missing && fetch_files ;;
  *)
    echo "usage: $0 test|demo|build|deps" >&2
    exit 2
    ;;
esac
