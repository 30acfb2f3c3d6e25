#!/usr/bin/env bash
# RevUp Studio bootstrap: installs what is missing, configures, builds, runs.
#   ./revup.sh test    build everything and run every test (what CI runs)
#   ./revup.sh demo    build and run the demonstration on built-in data
#   ./revup.sh build   only build
#   ./revup.sh deps    only install the Debian packages
#   ./revup.sh fetch-torch  only fetch the PyTorch wheel's LibTorch (build/torch-wheel/)
# REVUP_TORCH=debian|wheel chooses the LibTorch (default: the wheel's where a
# GPU is present; see choose_torch).
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
  libgloo-dev                   # data-parallel training: LibTorch's c10d Gloo header
                                #   includes Gloo's (both LibTorch builds carry the library)
  nlohmann-json3-dev            # model configs and benchmark JSON
  zlib1g-dev                    # reading gzip-compressed IDX (Fashion-MNIST)
  libopencv-dev                 # PNG plots now; image readers next
  libgtest-dev                  # the test suite
  iproute2                      # the two-node test: network namespaces joined by a veth pair
  strace                        # crash tests: a SIGKILL injected inside a checkpoint or save
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

# The second LibTorch: the PyTorch wheel's LibTorch 2.x, built for CUDA. Pinned
# to the GPU machine's version. PyPI's default torch 2.11.0 wheel is the CUDA
# 13.0 build (2.11.0+cu130, cuDNN 9.19), matching /usr/local/cuda here, so no
# other index is needed. It is fetched with pip (download only, no install)
# and unpacked under build/torch-wheel/ in the layout of a site-packages folder
# (torch/ and nvidia/*/lib side by side), because libtorch_cuda.so finds the
# NVIDIA libraries through its RPATH $ORIGIN/../../nvidia/*/lib.
TORCH_WHEEL_PIN="torch==2.11.0"
TORCH_WHEEL_DIR="$ROOT/build/torch-wheel"
# The NVIDIA runtime wheel that provides each library the wheel's LibTorch
# needs; the versions are those the torch 2.11.0 wheel itself requires (its
# METADATA, and the cuda-toolkit==13.0.2 extras it names). Only the ones whose
# library the dynamic loader cannot already find (ldd, e.g. in /usr/local/cuda)
# are downloaded.
declare -A NVIDIA_WHEEL_FOR=(
  [libcudart.so.13]="nvidia-cuda-runtime==13.0.96.*"
  [libcublas.so.13]="nvidia-cublas==13.1.0.3.*"
  [libcublasLt.so.13]="nvidia-cublas==13.1.0.3.*"
  [libcufft.so.12]="nvidia-cufft==12.0.0.61.*"
  [libcufile.so.0]="nvidia-cufile==1.15.1.6.*"
  [libcupti.so.13]="nvidia-cuda-cupti==13.0.85.*"
  [libcurand.so.10]="nvidia-curand==10.4.0.35.*"
  [libcusolver.so.12]="nvidia-cusolver==12.0.4.66.*"
  [libcusparse.so.12]="nvidia-cusparse==12.6.3.3.*"
  [libnvJitLink.so.13]="nvidia-nvjitlink==13.0.88.*"
  [libnvrtc.so.13]="nvidia-cuda-nvrtc==13.0.88.*"
  [libnvToolsExt.so.1]="nvidia-nvtx==13.0.85.*"
  [libcudnn.so.9]="nvidia-cudnn-cu13==9.19.0.56"
  [libcusparseLt.so.0]="nvidia-cusparselt-cu13==0.8.0"
  [libnccl.so.2]="nvidia-nccl-cu13==2.28.9"
  [libnvshmem_host.so.3]="nvidia-nvshmem-cu13==3.4.5"
)

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

# Unpacks the members of a wheel (a zip) that match the given patterns into
# DEST, with Python's zipfile (no unzip needed); prints the bytes unpacked.
unpack_wheel() {
  python3 - "$@" <<'PY'
import fnmatch, sys, zipfile
wheel, dest, *patterns = sys.argv[1:]
skip = "torch/lib/libtorch_python.so"  # Python's bindings: not LibTorch
total = 0
with zipfile.ZipFile(wheel) as z:
    for m in z.infolist():
        if m.filename != skip and any(fnmatch.fnmatch(m.filename, p) for p in patterns):
            z.extract(m, dest)
            total += m.file_size
print(total)
PY
}

# Libraries the dynamic loader cannot find for the wheel's LibTorch (its RPATH
# $ORIGIN/../../nvidia/*/lib, then ld.so.conf, e.g. /usr/local/cuda). The
# driver's libcuda.so.1 is not one of them: it comes with the NVIDIA driver and
# is only opened when a GPU is used.
wheel_missing_libs() {
  local root=$1
  # ldd follows the libraries these need, transitively.
  ldd "$root"/torch/lib/libtorch*.so "$root"/torch/lib/libc10*.so 2>/dev/null | awk '/=> not found/ && $1 != "libcuda.so.1" {print $1}' | sort -u
}

# ./revup.sh fetch-torch: the PyTorch wheel's LibTorch (and only the NVIDIA
# runtime wheels whose libraries this machine lacks) under build/torch-wheel/.
# Cached: FETCHED.txt, written last, names the pin and every download with its
# size; a changed pin fetches again. Written into a temporary folder and
# renamed into place, so an interrupted fetch leaves nothing half-unpacked.
fetch_torch_wheel() {
  local stamp="$TORCH_WHEEL_DIR/FETCHED.txt"
  if [[ -f $stamp ]] && [[ $(head -n 1 "$stamp") == "$TORCH_WHEEL_PIN" ]]; then
    return
  fi
  local pip=(python3 -m pip)
  if ! "${pip[@]}" --version >/dev/null 2>&1; then
    PACKAGES+=(python3-pip) && install_missing
  fi
  mkdir -p "$ROOT/build"
  rm -rf "$ROOT"/build/.torch-wheel-*  # what an interrupted fetch left
  local tmp
  tmp=$(mktemp -d "$ROOT/build/.torch-wheel-XXXXXX")
  log "downloading the PyTorch wheel $TORCH_WHEEL_PIN (about 530 MB) with pip, for its LibTorch 2.x built for CUDA"
  "${pip[@]}" download --no-deps --only-binary=:all: --no-cache-dir -q -d "$tmp/dl" "$TORCH_WHEEL_PIN"
  local wheel bytes
  wheel=$(ls "$tmp"/dl/torch-*.whl)
  bytes=$(unpack_wheel "$wheel" "$tmp/root" 'torch/lib/*' 'torch/include/*' 'torch/share/*' torch/version.py)
  {
    echo "$TORCH_WHEEL_PIN"
    echo "$(basename "$wheel"): $(($(stat -c %s "$wheel") / 1000000)) MB downloaded, $((bytes / 1000000)) MB unpacked (torch/lib, include, share: LibTorch's libraries, headers and CMake package)"
  } >"$tmp/FETCHED.txt"
  rm -f "$wheel"
  # The NVIDIA runtime wheels, only for what ldd cannot find; again, because an
  # unpacked library can need another.
  local round lib spec fetched=" "
  for round in 1 2 3; do
    local wanted=()
    for lib in $(wheel_missing_libs "$tmp/root"); do
      spec=${NVIDIA_WHEEL_FOR[$lib]:-}
      if [[ -z $spec ]]; then
        log "error: the wheel's LibTorch needs $lib, which this machine lacks and no known NVIDIA wheel provides"
        return 1
      fi
      [[ $fetched == *" $spec "* || " ${wanted[*]} " == *" $spec "* ]] || wanted+=("$spec")
      echo "  $lib: not found by the loader (ldd) -> $spec" >>"$tmp/FETCHED.txt"
    done
    ((${#wanted[@]} > 0)) || break
    log "downloading the NVIDIA runtime wheels this machine lacks: ${wanted[*]}"
    "${pip[@]}" download --no-deps --only-binary=:all: --no-cache-dir -q -d "$tmp/dl" "${wanted[@]}"
    for wheel in "$tmp"/dl/nvidia_*.whl; do
      bytes=$(unpack_wheel "$wheel" "$tmp/root" 'nvidia/*/lib/*.so*')
      echo "$(basename "$wheel"): $(($(stat -c %s "$wheel") / 1000000)) MB downloaded, $((bytes / 1000000)) MB unpacked" >>"$tmp/FETCHED.txt"
      rm -f "$wheel"
    done
    fetched+="${wanted[*]} "
  done
  lib=$(wheel_missing_libs "$tmp/root")
  if [[ -n $lib ]]; then
    log "error: still missing after fetching the NVIDIA wheels: $lib"
    return 1
  fi
  rm -rf "$TORCH_WHEEL_DIR"
  mv "$tmp/root" "$TORCH_WHEEL_DIR"
  mv "$tmp/FETCHED.txt" "$stamp"
  rm -rf "$tmp"
  log "the wheel's LibTorch is in ${TORCH_WHEEL_DIR#"$ROOT"/}:"
  sed 's/^/    /' "$stamp" >&2
}

# Which LibTorch a build uses: REVUP_TORCH=debian|wheel when set; otherwise
# the wheel's where nvidia-smi finds a GPU, and on machines without one the
# LibTorch that measured faster on the CPU (README, "Two LibTorch builds").
NO_GPU_DEFAULT_TORCH=debian
choose_torch() {
  case ${REVUP_TORCH:-} in
    debian | wheel) echo "$REVUP_TORCH" ;;
    "")
      if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
        echo wheel
      else
        echo "$NO_GPU_DEFAULT_TORCH"
      fi
      ;;
  esac
}
other_torch() { [[ $1 == wheel ]] && echo debian || echo wheel; }
# Each LibTorch its own preset and build folder: release -> build/ (Debian's
# 1.13, CPU), wheel -> build-wheel/ (the wheel's 2.x, CUDA).
preset_of() { [[ $1 == wheel ]] && echo wheel || echo release; }
dir_of() { [[ $1 == wheel ]] && echo build-wheel || echo build; }
describe_torch() {
  [[ $1 == wheel ]] && echo "the PyTorch wheel's LibTorch ($TORCH_WHEEL_PIN, CUDA)" ||
    echo "Debian's LibTorch 1.13 (CPU)"
}

configure() {
  local torch=$1 preset
  preset=$(preset_of "$torch")
  [[ $torch == wheel ]] && fetch_torch_wheel
  # ccache keys on paths and, with precompiled headers, needs these sloppiness settings.
  export CCACHE_BASEDIR="$ROOT"
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  local dir
  dir=$(dir_of "$torch")
  if [[ ! -f $dir/build.ninja ]]; then
    log "configuring (preset $preset) into $dir/"
    cmake --preset "$preset" >/dev/null
  fi
}

build() {
  install_missing
  fetch_files
  local torch
  torch=$(choose_torch)
  configure "$torch"
  log "building against $(describe_torch "$torch") with Ninja"
  cmake --build --preset "$(preset_of "$torch")"
}

run_tests() {
  build
  local torch other status=0
  torch=$(choose_torch)
  other=$(other_torch "$torch")
  log "running the tests against $(describe_torch "$torch") (ctest)"
  ctest --preset "$(preset_of "$torch")" --timeout 1200 || status=1
  # The other LibTorch: only what the tests labelled every_libtorch need (core,
  # models, the CLI, the exports), so CI stays within its time.
  configure "$other"
  log "building the core, models, CLI and export tests against $(describe_torch "$other")"
  cmake --build --preset "$(preset_of "$other")" --target revup_every_libtorch
  log "running the tests labelled every_libtorch against $(describe_torch "$other")"
  ctest --preset "$(preset_of "$other")" --timeout 1200 -L every_libtorch || status=1
  return $status
}

run_demo() {
  build
  # The product's main job on built-in data: a generated 4K scene with ground
  # truth, a few minutes of full-resolution training on the CPU, mIoU before and
  # after, peak memory against ResNet+Fixup, an overlay and a memory plot.
  "$(dir_of "$(choose_torch)")/bin/revup-cli" demo --out "$ROOT/runs/demo" "$@"
}

# Checked here, not inside choose_torch: its exit would only leave the $(...).
case ${REVUP_TORCH:-} in
  "" | debian | wheel) ;;
  *)
    log "error: REVUP_TORCH=$REVUP_TORCH: say debian or wheel"
    exit 2
    ;;
esac

case "${1:-}" in
  test) run_tests ;;
  demo) shift; run_demo "$@" ;;
  build) build ;;
  deps) install_missing && fetch_files ;;
  fetch-torch) fetch_torch_wheel ;;
  *)
    echo "usage: [REVUP_TORCH=debian|wheel] $0 test|demo|build|deps|fetch-torch" >&2
    exit 2
    ;;
esac
