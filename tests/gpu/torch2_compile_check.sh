#!/usr/bin/env bash
# Compiles the LibTorch-only build (core, models, revup-cli, tests) against the
# headers of a LibTorch 2.x, without a GPU and without installing anything:
# Debian trixie's libtorch-dev (2.6, CPU) is downloaded from Debian's archive
# and unpacked under build-torch2/. Object files only: trixie's libraries need
# a newer glibc than Debian 12 has, so linking is not part of this check.
# API differences between 1.13 and 2.x show up here as compile errors.
# With TORCH2_CUDA=1 it also fetches trixie's libtorch-cuda-dev and the CUDA
# 12.4 headers (nvidia-cuda-dev, about 900 MB) and compiles the files with
# CUDA-only code (REVUP_HAVE_CUDA: the caching allocator's statistics) against
# them; running them needs tests/gpu/run.sh on a CUDA machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=build-torch2
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$DEST/debs"
if [ ! -f "$DEST/root/usr/include/torch/version.h" ] && [ ! -f "$DEST/root/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  echo "fetching trixie's package index and libtorch-dev (about 70 MB)"
  curl -fsS "$MIRROR/dists/trixie/main/binary-amd64/Packages.xz" | xz -dc > "$DEST/Packages"
  for pkg in libtorch-dev libtorch2.6; do
    file=$(awk -v p="$pkg" '$1=="Package:"{x=($2==p)} x&&$1=="Filename:"&&!f{print $2; f=1}' \
      "$DEST/Packages")
    [ -n "$file" ] || { echo "trixie has no $pkg any more: update this script"; exit 1; }
    curl -fsS "$MIRROR/$file" -o "$DEST/debs/$pkg.deb"
    dpkg-deb -x "$DEST/debs/$pkg.deb" "$DEST/root"
  done
fi
LIB="$PWD/$DEST/root/usr/lib/x86_64-linux-gnu"
cmake --preset torch-only -B "$DEST/build" -DTorch_DIR="$LIB/cmake/Torch" \
  -DCaffe2_DIR="$LIB/cmake/Caffe2" > "$DEST/configure.log"
grep "RevUp: LibTorch" "$DEST/configure.log"
# Every object file, none of the links.
objects=$(ninja -C "$DEST/build" -t targets all | awk -F: '/\.o: CXX_COMPILER/{print $1}')
if ninja -C "$DEST/build" -k 0 $objects > "$DEST/compile.log" 2>&1; then
  echo "compiled $(echo "$objects" | wc -w) translation units against LibTorch 2.x headers: no errors"
else
  grep -E "error|Error" "$DEST/compile.log" | sort -u | head -n 40
  echo "compile errors against LibTorch 2.x: see $DEST/compile.log"
  exit 1
fi

[ "${TORCH2_CUDA:-0}" = 1 ] || exit 0
CUDA_ROOT="$DEST/cuda-root"
if [ ! -f "$CUDA_ROOT/usr/include/c10/cuda/CUDACachingAllocator.h" ]; then
  echo "fetching trixie's libtorch-cuda-dev and nvidia-cuda-dev (headers only are unpacked)"
  curl -fsS "$MIRROR/dists/trixie/contrib/binary-amd64/Packages.xz" | xz -dc > "$DEST/Packages-contrib"
  curl -fsS "$MIRROR/dists/trixie/non-free/binary-amd64/Packages.xz" | xz -dc > "$DEST/Packages-non-free"
  for spec in libtorch-cuda-dev:contrib nvidia-cuda-dev:non-free; do
    pkg=${spec%%:*}
    file=$(awk -v p="$pkg" '$1=="Package:"{x=($2==p)} x&&$1=="Filename:"&&!f{print $2; f=1}' \
      "$DEST/Packages-${spec#*:}")
    [ -n "$file" ] || { echo "trixie has no $pkg any more: update this script"; exit 1; }
    curl -fsS "$MIRROR/$file" -o "$DEST/debs/$pkg.deb"
    dpkg-deb --fsys-tarfile "$DEST/debs/$pkg.deb" | tar -x -C "$(mkdir -p "$CUDA_ROOT" && echo "$CUDA_ROOT")" --wildcards './usr/include/*'
    rm "$DEST/debs/$pkg.deb"
  done
fi
INC="$CUDA_ROOT/usr/include"
status=0
# The CUDA-only code sits in core/torch_compat.h behind REVUP_HAVE_CUDA; every
# file that includes it or calls torch::cuda / c10::cuda compiles it.
files=$(grep -rlE 'torch_compat\.h|torch::cuda|c10::cuda' --include='*.cpp' core models app)
[ -n "$files" ] || { echo "no file uses the CUDA code: update this script"; exit 1; }
for f in $files; do
  # The build's own definitions for this file (version, what was built in).
  obj=$(ninja -C "$DEST/build" -t targets all |
    awk -F: -v d="$(dirname "$f")" -v b="$(basename "$f")" \
      '!f && index($1, d "/CMakeFiles/") == 1 && $1 ~ ("/" b "\\.o$") {print $1; f = 1}')
  defines=$(ninja -C "$DEST/build" -t commands "$obj" | tail -n 1 | grep -oE -- '-D[^ ]+' | tr '\n' ' ')
  if eval g++ -std=c++17 -fsyntax-only -DREVUP_HAVE_CUDA "$defines" -I. -isystem "$INC" \
      -isystem "$INC/torch/csrc/api/include" "$f"; then
    echo "CUDA code in $f compiles against LibTorch 2.x (CUDA) headers"
  else
    status=1
  fi
done
exit $status
