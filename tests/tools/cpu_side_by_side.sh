#!/usr/bin/env bash
# cpu_side_by_side.sh OUT_DIR [ROUNDS]: the CPU speed of the two LibTorch
# builds, measured in one session so both see the same machine: bench speed
# (default sizes: batch 128 of 3x32x32, depth 20, every architecture) and
# bench seg (one full-resolution 3840x2160 step of the cpu preset, three
# architectures), alternating Debian's build (build/) and the wheel's
# (build-wheel/) ROUNDS times (default 2) so that drifting load hits both.
# Prints per architecture the median over rounds and the ratio wheel / Debian
# (below 1: the wheel is faster), and writes it to OUT_DIR/side_by_side.json.
# THREADS=N runs both with --threads N (default: all cores; on a shared
# machine 1 keeps another job's load from deciding through OpenMP's spinning
# threads). This is the measurement behind NO_GPU_DEFAULT_TORCH in revup.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: cpu_side_by_side.sh OUT_DIR [ROUNDS]}
rounds=${2:-2}
mkdir -p "$out"
declare -A cli=([debian]=${DEBIAN_CLI:-build/bin/revup-cli} [wheel]=${WHEEL_CLI:-build-wheel/bin/revup-cli})
for k in debian wheel; do
  [[ -x ${cli[$k]} ]] || { echo "${cli[$k]} is not built"; exit 1; }
  "${cli[$k]}" info | sed -n 2p | sed "s/^/$k: /"
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for k in debian wheel; do
    "${cli[$k]}" ${THREADS:+--threads "$THREADS"} bench speed --json "$out/speed-$k-$r.json" >"$out/speed-$k-$r.log" 2>&1
    "${cli[$k]}" ${THREADS:+--threads "$THREADS"} bench seg --json "$out/seg-$k-$r.json" >"$out/seg-$k-$r.log" 2>&1
    echo "round $r $k done (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
table = {}
for bench, key in (("speed", "median_step_seconds"), ("seg", "step_seconds")):
    for kind in ("debian", "wheel"):
        for r in range(1, rounds + 1):
            for res in json.load(open(f"{out}/{bench}-{kind}-{r}.json"))["results"]:
                table.setdefault((bench, res["arch"]), {}).setdefault(kind, []).append(res[key])
rows = []
print(f"{'bench':6} {'architecture':18} {'Debian 1.13 s':>14} {'wheel 2.11 s':>13} {'wheel/Debian':>13}")
for (bench, arch), v in table.items():
    d, w = statistics.median(v["debian"]), statistics.median(v["wheel"])
    rows.append({"bench": bench, "arch": arch, "debian_s": d, "wheel_s": w, "ratio": w / d,
                 "debian_runs": v["debian"], "wheel_runs": v["wheel"]})
    print(f"{bench:6} {arch:18} {d:14.3f} {w:13.3f} {w / d:13.2f}")
geo = statistics.geometric_mean([r["ratio"] for r in rows])
print(f"geometric mean of wheel/Debian: {geo:.2f}")
json.dump({"rows": rows, "geometric_mean_ratio": geo}, open(f"{out}/side_by_side.json", "w"), indent=1)
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
