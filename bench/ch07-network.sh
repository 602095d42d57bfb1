#!/usr/bin/env bash
# Chapter 7's network, side by side with podman's (netavark):
#   run --rm:    ch07-network run --rm demo true with --network none and with
#                the default bridge (what plugging a container in costs),
#                beside podman run --rm with --network none and bridge, in one
#                hyperfine run;
#   throughput:  iperf3 to a container through a published port, against
#                iperf3 to the container's address directly.
# Everything runs in network namespaces of the benchmark's own: one plays
# the host, one a client machine wired to it. No bridge, rule or setting of
# this machine's is touched, and no packet leaves those namespaces.
# Writes bench/results/ch07-{run,throughput}.{json,md}. Needs root;
# scripts/install-deps installs hyperfine, podman and iperf3.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch07-network
bin=$(pwd)/target/release/ch07-network
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
export CRATEBOX_ROOT=$work/state
podman=(podman --root "$work/podman" --runroot "$work/podman-run" --runtime runc
    --cgroup-manager cgroupfs --events-backend none)
podman_run=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
touch "$work/host" "$work/client"
unshare --net="$work/host" true
unshare --net="$work/client" true
on_host() { nsenter --net="$work/host" "$@"; }
on_client() { nsenter --net="$work/client" "$@"; }
cleanup() {
    on_host "$bin" rm -f $(on_host "$bin" ps -aq) >/dev/null 2>&1 || true
    on_host "${podman[@]}" rm -f -a >/dev/null 2>&1 || true
    on_host "${podman[@]}" system reset -f >/dev/null 2>&1 || true
    pkill -f "iperf3 -s -p 5201" 2>/dev/null || true
    awk -v dir="$work" 'index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mount_point; do umount -l "$mount_point" || true; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The host's lo, and a link to the client: 10.250.0.1 here, .2 there.
on_host ip link set lo up
on_client ip link set lo up
# ip names a namespace by a process in it: a sleep started by nsenter
# itself (no function, no subshell, so $! is that process), checked to be
# in the client's namespace before anything is put there.
nsenter --net="$work/client" sleep 1000 &
holder=$!
sleep 0.2
if [ "$(stat -L -c %i "/proc/$holder/ns/net")" != "$(stat -L -c %i "$work/client")" ]; then
    echo "ch07-network.sh: the client namespace's holder is not in it" >&2
    exit 1
fi
on_host ip link add lab0 type veth peer name lab1 netns "$holder"
kill "$holder"
on_host ip addr add 10.250.0.1/24 dev lab0
on_host ip link set lab0 up
on_client ip addr add 10.250.0.2/24 dev lab1
on_client ip link set lab1 up

# The demo image, for both; a network of cratebox's that nothing else
# uses, for the cold runs.
on_host "$bin" network create cold >/dev/null
on_host "$bin" run --rm --network none demo true
on_host "$bin" save -o "$work/demo.tar" demo
on_host "${podman[@]}" load -q -i "$work/demo.tar" >/dev/null
on_host "${podman[@]}" tag "$(on_host "${podman[@]}" images -q | head -1)" localhost/demo:latest

mkdir -p bench/results
runs=${RUNS:-60}

# 1. What the network adds to a container's start and end, with each
# engine's network already up (another container on it, as on a machine
# in use), and, for cratebox, cold: the first container makes the bridge,
# the last one's rm removes it.
on_host "$bin" run -d --name keeper demo sleep 100000 >/dev/null
on_host "${podman[@]}" run -d --name keeper --network bridge "${podman_run[@]}" localhost/demo sleep 100000 >/dev/null
on_host hyperfine --warmup 5 --runs "$runs" -N \
    --export-json bench/results/ch07-run.json \
    -n "cratebox --network none" "$bin run --rm --network none demo true" \
    -n "cratebox --network bridge" "$bin run --rm demo true" \
    -n "cratebox --network bridge, cold" "$bin run --rm --network cold demo true" \
    -n "podman --network none" "${podman[*]} run --rm --network none ${podman_run[*]} localhost/demo true" \
    -n "podman --network bridge (netavark)" "${podman[*]} run --rm --network bridge ${podman_run[*]} localhost/demo true"
python3 bench/summarize.py bench/results/ch07-run.json "cratebox --network none" > bench/results/ch07-run.md

# 2. Throughput: iperf3's server in the container's network namespace
# (the image has no iperf3; the path measured is the network's), its
# client on the client machine, through the published port and directly.
on_host "$bin" run -d --name sink -p 5201:5201 demo sleep 100000 >/dev/null
pid=$(on_host "$bin" inspect sink | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
address=$(on_host "$bin" inspect sink | python3 -c 'import json,sys; n=json.load(sys.stdin)[0]["NetworkSettings"]["Networks"]; print(next(iter(n.values()))["IPAddress"])')
nsenter --net=/proc/"$pid"/ns/net iperf3 -s -p 5201 -D
sleep 0.5
on_client ip route add "$address"/32 via 10.250.0.1
measure() {
    on_client iperf3 -c "$1" -p 5201 -t "${SECONDS_EACH:-5}" -J |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'
}
direct=$(measure "$address")
published=$(measure 10.250.0.1)
python3 - "$direct" "$published" > bench/results/ch07-throughput.md <<'PY'
import os, platform, sys
direct, published = float(sys.argv[1]), float(sys.argv[2])
print("| iperf3 from a client machine to the container | Gbit/s | of direct |")
print("|---|---:|---:|")
print(f"| directly, to its address (routed by the host) | {direct / 1e9:.2f} | 100% |")
print(f"| through the published port (DNAT) | {published / 1e9:.2f} | {published / direct:.0%} |")
print()
print(f"TCP, {os.environ.get('SECONDS_EACH', '5')} s each; Linux {platform.release()}, {platform.machine()}, {os.cpu_count()} CPUs.")
PY

for table in run throughput; do
    echo "== ch07-$table"
    cat "bench/results/ch07-$table.md"
done
