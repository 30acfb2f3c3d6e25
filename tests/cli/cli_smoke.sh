#!/usr/bin/env bash
# End-to-end: the benches write their JSON, CSV and PNG; train-classifier trains
# on the real Fashion-MNIST files, refuses to overwrite a run, and resumes one.
set -euo pipefail
cli=$1
data=${2:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$cli" info --json "$tmp/info.json"
grep -q '"libtorch_version"' "$tmp/info.json"
# --threads is the app's option, taken before or after the subcommand.
"$cli" info --threads 1 | grep -q "threads *1 of" || { echo "info --threads 1 not applied"; exit 1; }

"$cli" bench memory --archs resnet-fixup revup-memsave --depths 8 14 --input 2 3 16 16 --json "$tmp/m.json"
for key in arch depth input whole_step_peak_bytes peak_bytes activation_peak_bytes optimizer_state_bytes timeline; do
  grep -q "\"$key\"" "$tmp/m.json" || { echo "bench memory JSON lacks $key"; exit 1; }
done
test -s "$tmp/m.csv"
if "$cli" info | grep -q "PNG plots       yes"; then test -s "$tmp/m.png"; fi

"$cli" bench speed --archs resnet-fixup revup-memsave --depth 8 --input 2 3 16 16 --steps 2 --json "$tmp/s.json"
grep -q '"ratio_to_resnet_fixup"' "$tmp/s.json"

"$cli" bench invert --depth 8 --iterations 10 --input 1 3 16 16 --grid 32 --json "$tmp/i.json"
# Measured on perturbed weights whose spectral norms converged, each block's
# true Lip(g) beside its errors (issue 15, section 2).
python3 - "$tmp/i.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = d["normalization"]
assert n["spectral_norm"] == "converged on the perturbed weights" and n["power_iterations"] > 1, n
# At --grid 32 the true bound is the estimator's own grid and margin: equal to
# c up to float32 round-off for a conv its divisor holds at c.
assert n["max_true_sigma_over_c"] <= 1 + 1e-5 and n["max_block_lipschitz"] < 1, n
assert all(0 < b["true_lipschitz"] < 1 for b in d["blocks"]), d["blocks"]
assert 0 <= d["gradient_relative_error_n1"] < 0.1, d["gradient_relative_error_n1"]
PY
# Figure 4: with the injective stem the image itself is rebuilt, better with more N.
"$cli" bench invert --depth 8 --injective-stem --iterations 40 --input 1 3 16 16 --grid 32 --json "$tmp/ii.json"
python3 - "$tmp/ii.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = {r["n"]: r["relative_l2_error"] for r in d["input_image"]["by_iterations"]}
assert d["input_image"]["blocks"] == 1, d["input_image"]  # RevUp-8: one block per stage
assert e[40] < e[1] and e[40] < 1e-4, e
PY

# The segmentation step three ways, small: ratios and timelines come out.
"$cli" bench seg --input 1 3 96 128 --blocks 2,1,1 --json "$tmp/seg.json"
python3 - "$tmp/seg.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
archs = [r["arch"] for r in d["results"]]
assert archs == ["revup-memsave", "revup", "resnet-fixup"], archs
assert all(r["whole_step_peak_bytes"] >= r["peak_bytes"] > 0 and r["timeline"] for r in d["results"])
# SGD's momentum: one buffer per parameter, live before the measured (later) step.
assert all(0 < r["optimizer_state_bytes"] < r["live_before_bytes"] for r in d["results"])
r = d["ratios"]["memsave_over_resnet_fixup"]
assert 0 < r < 1, r  # MemSave needs less than ResNet+Fixup even on a small image
PY

# The same in 3D on a small volume, and one architecture alone (no ratios).
"$cli" bench seg3d --input 1 1 24 32 28 --classes 4 --blocks 1,1,1 --json "$tmp/seg3d.json"
"$cli" bench seg3d --input 1 1 24 32 28 --classes 4 --blocks 1,1,1 --archs revup-memsave \
  --json "$tmp/seg3d-memsave.json"
python3 - "$tmp/seg3d.json" "$tmp/seg3d-memsave.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["model"]["backbone"]["dims"] == 3, d["model"]
assert [r["arch"] for r in d["results"]] == ["revup-memsave", "revup", "resnet-fixup"]
assert all(r["whole_step_peak_bytes"] >= r["peak_bytes"] > 0 and r["timeline"] for r in d["results"])
assert d["ratios"]["target_memsave_over_resnet_fixup"] == 0.3, d["ratios"]
# No ratio below 1 on a volume this small: each 3D spectral norm's probe (a
# 32^3 grid, the same at any volume size) outweighs its activations.
assert d["ratios"]["memsave_over_resnet_fixup"] > 0, d["ratios"]
one = json.load(open(sys.argv[2]))
assert [r["arch"] for r in one["results"]] == ["revup-memsave"] and "ratios" not in one, one.keys()
PY

# The 4K benchmark at an eighth of the size: its JSON, the extrapolation flag,
# RevUp's whole step below ResNet+Fixup's.
"$cli" bench 4k --input 1 3 540 1024 --json "$tmp/4k.json"
python3 - "$tmp/4k.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r, f = d["revup_memsave"], d["resnet_fixup"]
for k in ("whole_step_peak_bytes", "peak_bytes", "activation_peak_bytes", "live_before_bytes",
          "optimizer_state_bytes", "state_bytes", "step_seconds", "timeline"):
    assert k in r, k
assert r["whole_step_peak_bytes"] >= r["peak_bytes"] > r["live_before_bytes"] > r["state_bytes"] > 0
assert r["optimizer_state_bytes"] > 0, "no momentum buffers: not a later step"
assert f["extrapolated"] is True and f["measured_input"] == [1, 3, 270, 512], f
assert r["whole_step_peak_bytes"] < f["whole_step_peak_bytes"], (r["whole_step_peak_bytes"], f["whole_step_peak_bytes"])
assert d["process_rss_high_water_bytes"] > 0
PY

if [[ -f "$data/train-images-idx3-ubyte.gz" ]]; then
  "$cli" train-classifier --data "$data" --arch revup-memsave --depth 8 --epochs 1 \
    --limit-train 256 --limit-test 128 --batch-size 64 --out "$tmp/run"
  test -s "$tmp/run/last.pt" && test -s "$tmp/run/config.json" && test -s "$tmp/run/metrics.csv"
  if "$cli" train-classifier --data "$data" --depth 8 --epochs 1 --limit-train 64 --out "$tmp/run" 2>"$tmp/err"; then
    echo "an existing run was overwritten without --resume"; exit 1
  fi
  grep -q "resume" "$tmp/err"
  "$cli" train-classifier --data "$data" --arch revup-memsave --depth 8 --epochs 2 \
    --limit-train 256 --limit-test 128 --batch-size 64 --out "$tmp/run" --resume >"$tmp/resume.log"
  grep -q "resuming" "$tmp/resume.log"
  test "$(wc -l <"$tmp/run/metrics.csv")" -eq 3  # header + 2 epochs
  # A trained run feeds the inversion bench.
  "$cli" bench invert --model "$tmp/run" --iterations 5 --input 1 1 28 28 --grid 32 --json "$tmp/i2.json"
  grep -q '"as trained' "$tmp/i2.json"
else
  echo "Fashion-MNIST not installed at $data (package dataset-fashion-mnist): training part NOT run" >&2
  exit 1
fi
echo "cli smoke: all good"
