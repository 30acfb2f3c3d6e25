#!/usr/bin/env bash
# A disk that fills up while revup-cli writes (issue 3, section 6): a clear
# error naming the file, exit code below 128 (no crash, no signal), no file and
# no temporary folder left behind, and earlier checkpoints intact and loadable.
#   disk_full.sh CLI FIXTURES fsize|tmpfs predict|checkpoint
# fsize: a file-size limit (ulimit -f), which needs no privileges; the kernel
#   fails the write with EFBIG. tmpfs: a real full file system (ENOSPC), a
#   small tmpfs mounted in a private mount namespace: needs root and unshare,
#   otherwise the test is skipped (exit 77).
# FIXTURES: what bad_input_fixtures.sh made (run2, volume_run, big.png, ...).
set -euo pipefail
cli=$1
fx=$2
mode=$3
what=$4
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

if [[ $mode == tmpfs ]]; then
  REVUP_TMPFS_SKIP_NOTE="; the fsize variant covers the rest"
  source "$here/private_tmpfs.sh"
  private_tmpfs "$0" "$@"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  disk=$tmp/disk
  mkdir "$disk"
fi
if [[ $mode == tmpfs ]]; then
  mount -t tmpfs -o size=32m tmpfs "$disk" || { echo "SKIPPED: cannot mount a tmpfs"; exit 77; }
fi
# Fills what is left of the tmpfs (nothing to do for fsize: the limit is set
# on the command alone).
fill_disk() {
  if [[ $mode == tmpfs ]]; then
    dd if=/dev/zero of="$disk/filler" bs=4k >/dev/null 2>&1 || true
    echo "tmpfs full: $(df -k "$disk" | awk 'NR==2 {print $4}') KiB free"
  fi
}
# run_full NAME COMMAND...: the command with the disk full; its exit code and
# output in $code and $output.
run_full() {
  local limit=()
  if [[ $mode == fsize ]]; then
    limit=(ulimit -f "$FSIZE_KIB")
  else
    limit=(true)
  fi
  set +e
  output=$("${limit[@]}" && exec "$@" 2>&1)
  code=$?
  set -e
}
# expect_clean_failure FILE REGEX [written-before]: non-zero, no signal, the
# message matches REGEX (names FILE), no temporary folder beside FILE, and FILE
# absent unless it was there before.
expect_clean_failure() {
  local file=$1 regex=$2 before=${3:-}
  echo "$output" | grep -v "^epoch\|^predict\|^evaluate\|^  " | tail -3
  ((code != 0)) || fail "the write to a full disk succeeded: $file"
  ((code < 128)) || fail "crashed (exit $code) writing $file"
  grep -Eq -- "$regex" <<<"$output" || fail "message does not match /$regex/"
  [[ -n $before || ! -e $file ]] || fail "$file exists: half-written"
  local left
  left=$(find "$(dirname "$file")" -maxdepth 1 -name ".revup-write-*")
  [[ -z $left ]] || fail "temporary files left behind: $left"
  echo "ok: exit $code"
}

case $what in
  predict)
    # A 1 MiB .npy, a GeoTIFF (GDAL) and a NIfTI label volume (ITK): every
    # writer must report the failed write, not crash or leave a file.
    FSIZE_KIB=0
    fill_disk
    plugins=$("$cli" info)
    run_full "$cli" predict --model "$fx/run2" --input "$fx/big.png" --output "$disk/mask.npy"
    expect_clean_failure "$disk/mask.npy" "$disk/mask.npy: could not be written"
    run_full "$cli" predict --model "$fx/run2" --input "$fx/big.png" --output "$disk/mask.png"
    expect_clean_failure "$disk/mask.png" "$disk/mask.png: could not be written"
    if grep -q "revup-plugin-gdal.so: loaded" <<<"$plugins"; then
      run_full "$cli" predict --model "$fx/run2" --input "$fx/big.png" --output "$disk/mask.tif"
      expect_clean_failure "$disk/mask.tif" "$disk/mask.tif: could not be written"
    else
      echo "GDAL plugin not loaded: GeoTIFF part not run"
    fi
    if grep -q "revup-plugin-itk.so: loaded" <<<"$plugins"; then
      for ext in nii.gz nii mha nrrd; do
        run_full "$cli" predict --model "$fx/volume_run" --input "$fx/volume.nii.gz" \
          --output "$disk/labels.$ext"
        expect_clean_failure "$disk/labels.$ext" "$disk/labels.$ext: could not be written"
      done
    else
      echo "ITK plugin not loaded: label volume part not run"
    fi
    run_full "$cli" evaluate --model "$fx/run2" --data "$fx/ok" --json "$disk/eval.json"
    expect_clean_failure "$disk/eval.json" "$disk/eval.json: could not be written"
    ;;
  checkpoint)
    # A trained run (last.pt and best.pt, 3.6 MB each with the cpu preset; the
    # 32 MB disk must hold them and a new one once the filler is gone) resumed where its next
    # checkpoint cannot be written.
    cp -a "$fx/run2" "$disk/run"
    cp -a "$fx/run2" "$tmp/before"
    FSIZE_KIB=1024
    fill_disk
    run_full "$cli" train --data "$fx/ok" --epochs 2 --val-fraction 0.5 --no-augment \
      --out "$disk/run" --resume
    # An epoch writes metrics.csv, best.pt, then last.pt (its commit): the
    # first that does not fit fails (metrics.csv on a full tmpfs, a checkpoint
    # under the size limit), and a row past last.pt may be there, which the
    # resume drops.
    expect_clean_failure "$disk/run/last.pt" \
      "$disk/run/(metrics[.]csv|best[.]pt|last[.]pt): could not be written" written-before
    for f in last.pt best.pt config.json; do
      cmp -s "$disk/run/$f" "$tmp/before/$f" || fail "$f changed by the failed write"
    done
    head -n "$(wc -l <"$tmp/before/metrics.csv")" "$disk/run/metrics.csv" |
      cmp -s - "$tmp/before/metrics.csv" || fail "metrics.csv's earlier rows changed"
    [[ ! -e $disk/run/memory_timeline.json ]] || cmp -s "$disk/run/memory_timeline.json" \
      "$tmp/before/memory_timeline.json" || fail "memory_timeline.json changed"
    rm -f "$disk/filler"
    # Still loadable: both checkpoints predict, and the run resumes.
    for c in last best; do
      "$cli" predict --model "$disk/run" --checkpoint "$c" --input "$fx/ok/images/0.png" \
        --output "$tmp/$c.png" >/dev/null || fail "$c.pt no longer loads"
    done
    "$cli" train --data "$fx/ok" --epochs 2 --val-fraction 0.5 --no-augment --out "$disk/run" \
      --resume >/dev/null || fail "the run does not resume after the failed write"
    [[ $(wc -l <"$disk/run/metrics.csv") -eq 3 ]] || fail "metrics.csv lacks the resumed epoch"
    echo "checkpoints intact and loadable; the run resumed"
    ;;
  *) fail "unknown case '$what'" ;;
esac
echo "disk full ($mode, $what): ok"
