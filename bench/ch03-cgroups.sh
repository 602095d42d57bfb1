#!/usr/bin/env bash
# What a cgroup adds to a container's start and end, side by side in one
# hyperfine run:
#   ch02-namespaces --rootfs R /bin/true                      (no cgroup)
#   ch03-cgroups -m 64m --cpus 1 --pids-limit 100 --rootfs R /bin/true
#   ch03-cgroups --stats --rootfs R /bin/true   (joins memory, cpu and pids for the statistics)
# Target: under 1 ms added (median). Writes bench/results/ch03-cgroups.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch02-namespaces -p ch03-cgroups
ch02=target/release/ch02-namespaces
ch03=target/release/ch03-cgroups
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
CRATEBOX_ROOT=$work/state $ch02 /bin/true
rootfs=$work/state/demo/rootfs

mkdir -p bench/results
hyperfine --warmup 20 --runs "${RUNS:-300}" -N \
    --export-json bench/results/ch03-cgroups.json \
    -n "ch02-namespaces (no cgroup)" "$ch02 --rootfs $rootfs /bin/true" \
    -n "ch03-cgroups -m 64m --cpus 1 --pids-limit 100" "$ch03 -m 64m --cpus 1 --pids-limit 100 --rootfs $rootfs /bin/true" \
    -n "ch03-cgroups --stats" "$ch03 --stats --rootfs $rootfs /bin/true"

python3 bench/summarize.py bench/results/ch03-cgroups.json "ch02-namespaces (no cgroup)" > bench/results/ch03-cgroups.md
cat bench/results/ch03-cgroups.md
if ls /sys/fs/cgroup/*/cratebox /sys/fs/cgroup/cratebox >/dev/null 2>&1; then
    echo "a cratebox cgroup was left behind" >&2
    exit 1
fi
