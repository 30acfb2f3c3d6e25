#!/usr/bin/env bash
# The GUI in a long session (issue 17, section 4), not in CI (20 minutes):
#   tests/ui/soak.sh [SECONDS (default 1260)] [BIN (default build/bin)]
# Under Xvfb, `revup --soak` trains on a labelme photo with painted labels,
# the memory and reconstruction panels both showing, while this script zooms
# (wheel) and pans (right-drag) the image with xdotool about once a second
# and samples the process's RSS from /proc every 5 s. The app times its event
# loop (ui/models/event_loop_watchdog.h) and counts the input it received.
# Fails when training stopped early, the event loop stalled over 50 ms, a
# minute passed without input reaching the app, or RSS after the warm-up
# (the first WARMUP seconds, default 180) grew more than RSS_BOUND_MIB
# (default 64). Results in OUT (default build/soak-gui): report.json (the
# app's), rss.csv, revup.log, summary.json (printed at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-1260}
bin=${2:-build/bin}
out=${OUT:-build/soak-gui}
warmup=${WARMUP:-180}
bound=${RSS_BOUND_MIB:-64}
for tool in Xvfb xdotool; do
  command -v $tool >/dev/null || { echo "soak.sh: needs $tool (apt install xvfb xdotool)" >&2; exit 2; }
done
rm -rf "$out" && mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

voc=/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_dataset_voc
cp "$voc/JPEGImages/2011_000025.jpg" "$work/bus.jpg"
resources/screenshots/painted_labels.py "$voc" "$work"

Xvfb -displayfd 3 -screen 0 1920x1200x24 -nolisten tcp 3>"$work/display" 2>"$out/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/display ]] && break; sleep 0.1; done
export DISPLAY=:$(cat "$work/display")
export REVUP_LOG_FILE=$out/revup.log QT_QPA_PLATFORM=xcb
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data  # no remembered layout or settings

"$bin/revup" --size 1600x1000 --soak "$seconds" --soak-report "$out/report.json" "$work/bus.jpg" \
  >"$out/revup.out" 2>&1 &
app=$!
pids+=($app)
for _ in $(seq 600); do grep -q "^soak: image view" "$out/revup.out" && break; sleep 0.1; done
read -r x y w h < <(sed -n "s/^soak: image view //p" "$out/revup.out") || true
[[ -n ${h:-} ]] || { cat "$out/revup.out"; echo "soak.sh: the app never showed its image view" >&2; exit 1; }
echo "soak: $seconds s on $DISPLAY, image view at $x,$y ${w}x$h, pid $app"

echo "seconds,rss_mib" >"$out/rss.csv"
start=$SECONDS
next_sample=0
sent=0
RANDOM=17
while kill -0 $app 2>/dev/null; do
  t=$((SECONDS - start))
  if ((t >= next_sample)); then
    rss_kib=$(awk '/^VmRSS/ {print $2}' /proc/$app/status 2>/dev/null || true)
    [[ -n $rss_kib ]] && echo "$t,$((rss_kib / 1024))" >>"$out/rss.csv"
    next_sample=$((next_sample + 5))
  fi
  cx=$((x + w / 4 + RANDOM % (w / 2)))
  cy=$((y + h / 4 + RANDOM % (h / 2)))
  # Zoom in or out by a few wheel steps, then pan with the right button.
  button=$((RANDOM % 2 ? 4 : 5))
  xdotool mousemove $cx $cy click --repeat 3 --delay 30 $button \
    mousedown 3 mousemove_relative -- $((RANDOM % 81 - 40)) $((RANDOM % 81 - 40)) mouseup 3 \
    2>/dev/null || true
  sent=$((sent + 1))
  sleep 1
done
wait $app && status=0 || status=$?
echo "soak: the app exited with $status after $((SECONDS - start)) s, $sent gestures sent"

python3 - "$out" "$warmup" "$bound" "$status" "$sent" <<'PY'
import csv, json, re, sys
out, warmup, bound, status, sent = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
report = json.load(open(f"{out}/report.json"))
rows = [(float(r["seconds"]), float(r["rss_mib"])) for r in csv.DictReader(open(f"{out}/rss.csv"))]
after = [(t, m) for t, m in rows if t >= warmup]
n = len(after)
if n < 2:
    sys.exit(f"soak.sh: {len(rows)} RSS samples, fewer than 2 after the {warmup:.0f} s warm-up: a longer run or WARMUP=")
mt = sum(t for t, _ in after) / n
mm = sum(m for _, m in after) / n
slope = sum((t - mt) * (m - mm) for t, m in after) / sum((t - mt) ** 2 for t, _ in after)
base = after[0][1]
# Input reaching the app, minute by minute (revup.log's progress lines).
log = open(f"{out}/revup.log").read()
counts = [int(c) for c in re.findall(r"soak: .* (\d+) input events", log)]
stalls = re.findall(r"^(\S+) warning (event loop stalled .*)$", log, re.M)
quiet = sum(1 for a, b in zip([0] + counts, counts) if b <= a)
summary = {
    "seconds": report["seconds"], "epochs": report["epochs"],
    "event_loop": report["event_loop"], "stalls": [f"{t}: {what}" for t, what in stalls],
    "input_events": report["input_events"],
    "gestures_sent": sent, "minutes_without_input": quiet,
    "rss_mib": {"first": rows[0][1], "at_warmup_end": base, "max_after_warmup": max(m for _, m in after),
                "last": rows[-1][1], "growth_after_warmup": max(m for _, m in after) - base,
                "slope_mib_per_hour": slope * 3600, "warmup_s": warmup, "bound_mib": bound},
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(json.dumps(summary, indent=2))
problems = []
if status != 0 or report["training_stopped_early"]: problems.append("training stopped early")
if report["event_loop"]["stalls_over_50ms"]: problems.append("event loop stalls over 50 ms")
if quiet or not counts: problems.append("a minute without input reaching the app")
if summary["rss_mib"]["growth_after_warmup"] > bound: problems.append(f"RSS grew more than {bound} MiB")
print("soak: " + ("FAIL: " + "; ".join(problems) if problems else "OK"))
sys.exit(1 if problems else 0)
PY
