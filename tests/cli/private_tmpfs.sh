# Sourced by the tests that need a small, really full disk (disk_full.sh,
# full_disk_then_kill.sh): private_tmpfs SCRIPT ARGS... re-runs the script in
# a private mount namespace (root and unshare; otherwise exit 77, skipped,
# saying why), where a tmpfs mounted on $disk vanishes with the namespace
# however the test ends. Inside, it makes $tmp and $disk and removes them at
# exit; the caller mounts what size it needs.
private_tmpfs() {
  if [[ -z ${REVUP_IN_PRIVATE_MOUNTS:-} ]]; then
    if [[ $(id -u) -ne 0 ]] || ! unshare -m --propagation private true 2>/dev/null; then
      echo "SKIPPED: a tmpfs needs root and unshare -m${REVUP_TMPFS_SKIP_NOTE:-}"
      exit 77
    fi
    REVUP_IN_PRIVATE_MOUNTS=1 exec unshare -m --propagation private "$@"
  fi
  tmp=$(mktemp -d)
  trap 'umount "$tmp/disk" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  disk=$tmp/disk
  mkdir "$disk"
}
