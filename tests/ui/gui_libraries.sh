#!/usr/bin/env bash
# gui_libraries.sh REVUP SCRATCH WITH_ONNX [IMAGE]: the desktop application, started
# offscreen (it opens IMAGE, through a format plugin where one reads it, and
# takes a screenshot), loads LibTorch and exactly one protobuf and one ONNX
# library (WITH_ONNX=1, a build with the ONNX exporter; else at most one),
# the plugins' included. The dynamic loader's own record (LD_DEBUG=files)
# names every library the process opened, also those opened later by dlopen.
# With the PyTorch wheel's LibTorch, whose libtorch_cpu.so carries private
# copies of both, a second libprotobuf or libonnx would mean two copies of
# protobuf's registries in one process.
set -euo pipefail
revup=$1
scratch=$2
with_onnx=$3
image=${4:-}
log=$scratch/gui_libraries.ld.log
rm -f "$log".*
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen LD_DEBUG=files LD_DEBUG_OUTPUT="$log" \
  "$revup" --screenshot "$scratch/gui_libraries.png" --size 1280x800 ${image:+"$image"}
# Lines such as "file=libprotobuf.so.32 [0];  generating link map".
opened=$(cat "$log".* | sed -n 's/.*file=\([^ ]*\) \[[0-9]*\];  generating link map.*/\1/p' | sort -u)
rm -f "$log".*
count() { grep -c -E "$1" <<<"$opened" || true; }
echo "$opened" | grep -E '^lib(torch_c|c10|protobuf|onnx|gdal|ITKCommon)' | sed 's/^/opened: /' || true
torch=$(count '^libtorch_cpu[.]so')
protobuf=$(count '^libprotobuf(-lite)?[.]so')
onnx=$(count '^libonnx[.]so')
echo "libtorch_cpu: $torch, libprotobuf: $protobuf, libonnx: $onnx"
[[ $torch == 1 ]] || { echo "FAIL: LibTorch not loaded: the check would prove nothing"; exit 1; }
if [[ $with_onnx == 1 ]]; then
  [[ $protobuf == 1 && $onnx == 1 ]] || { echo "FAIL: not exactly one protobuf and one ONNX"; exit 1; }
  echo "one protobuf, one ONNX: ok"
else
  [[ $protobuf -le 1 && $onnx -le 1 ]] || { echo "FAIL: more than one protobuf or ONNX"; exit 1; }
  echo "at most one protobuf and one ONNX: ok"
fi
