#!/usr/bin/env bash
# bench distributed, small and short (issue 18): three phases of real
# training (1 process, 2 without and with overlap) run to the end, and the
# report holds what the README quotes. The figures themselves come from the
# full-size run (README), not from this one.
set -euo pipefail
cli=$1
python=${2:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" bench distributed --width 192 --height 128 --steps 3 --warmup 1 --json "$tmp/d.json"
"$python" - "$tmp/d.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in ("scaling_efficiency", "overlap_share", "peak_difference_mib",
                         "gradient_bucket_mib")})
assert d["processes"] == 2 and d["threads"] == 1, d
assert 0 < d["scaling_efficiency"] <= 1.5, d["scaling_efficiency"]
assert 0 <= d["overlap_share"] <= 1, d["overlap_share"]
for phase, n in (("one_process", 1), ("no_overlap", 2), ("overlap", 2)):
    p = d["phases"][phase]
    assert p["processes"] == n and len(p["peak_mib_per_rank"]) == n, (phase, p)
    assert len(p["step_seconds"]) == 3 and p["images_per_second"] > 0, (phase, p)
# The ranks' own memory is one process's plus the gradient buckets (one copy
# of the gradients) and Gloo's buffers: more than nothing, less than twice.
assert d["gradient_bucket_mib"] > 0, d
assert 0 < d["peak_difference_mib"] <= 2 * d["gradient_bucket_mib"] + 1, d
PY
echo PASS
