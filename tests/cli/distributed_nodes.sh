#!/usr/bin/env bash
# Two nodes for real (issue 18): two network namespaces joined by a veth pair,
# one torchrun per namespace (--nnodes 2, one process each) meeting at the
# first namespace's address, Gloo on the veth (GLOO_SOCKET_IFNAME, as on a
# cluster with several interfaces). The trained weights equal one process
# accumulating two images per step. The namespaces and the link are removed
# whatever happens.
#   distributed_nodes.sh CLI [PYTHON]
set -euo pipefail
cli=$(realpath "$1")
python=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
[[ $(id -u) == 0 ]] || fail "network namespaces need root (CI runs as root); run as root or with sudo"
command -v ip >/dev/null || fail "ip missing: install iproute2"
command -v torchrun >/dev/null || fail "torchrun missing: install python3-torch (./revup.sh deps)"
"$cli" info | grep -q "data-parallel   gloo" || fail "this revup-cli has no Gloo"

tmp=$(mktemp -d)
tag="rv$$"  # interface names: at most 15 characters
node0="${tag}n0" node1="${tag}n1" veth0="${tag}v0" veth1="${tag}v1"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns pids "$node0" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$node1" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$node0" 2>/dev/null || true
  ip netns del "$node1" 2>/dev/null || true
  ip link del "$veth0" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$node0" || fail "cannot create a network namespace (no CAP_SYS_ADMIN here?)"
ip netns add "$node1"
ip link add "$veth0" type veth peer name "$veth1"
ip link set "$veth0" netns "$node0"
ip link set "$veth1" netns "$node1"
ip -n "$node0" addr add 10.231.0.1/24 dev "$veth0"
ip -n "$node1" addr add 10.231.0.2/24 dev "$veth1"
for n in "$node0" "$node1"; do ip -n "$n" link set lo up; done
ip -n "$node0" link set "$veth0" up
ip -n "$node1" link set "$veth1" up

(cd "$tmp" && "$python" -c "
import sys; sys.path.insert(0, '$here'); import make_bad_inputs as m
m.folder('data', [m.mask(96, 64, 2)] * 5, [m.photo(96, 64, i) for i in range(5)])")
train=(train --data "$tmp/data" --val-fraction 0.4 --no-augment --preset cpu --threads 1 --epochs 2)

echo "== one process accumulating two images"
"$cli" "${train[@]}" --accumulate 2 --out "$tmp/alone" >"$tmp/alone.log"

echo "== two nodes, one rank each, over the veth pair"
node() {  # node_rank namespace interface
  ip netns exec "$2" env GLOO_SOCKET_IFNAME="$3" \
    torchrun --no_python --nnodes 2 --node_rank "$1" --nproc_per_node 1 --max_restarts 0 \
    --redirects 2 --tee 2 --master_addr 10.231.0.1 --master_port 29500 \
    "$cli" "${train[@]}" --dist-timeout 60 --out "$tmp/two"
}
node 0 "$node0" "$veth0" >"$tmp/node0.log" 2>&1 &
pids+=($!)
node 1 "$node1" "$veth1" >"$tmp/node1.log" 2>&1 &
pids+=($!)
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
pids=()
if ((status)); then
  tail -20 "$tmp/node0.log" "$tmp/node1.log"
  fail "the two-node run failed"
fi
grep -q "rank 1 of 2" "$tmp/two/logs/rank-1.log" || fail "rank 1 (node 1) wrote no log in the run folder"
"$python" "$here/compare_runs.py" "$tmp/alone/last.pt" "$tmp/two/last.pt" 1e-6
"$python" "$here/check_run_folder.py" "$tmp/two" || fail "the two-node run folder does not read whole"
echo "PASS"
