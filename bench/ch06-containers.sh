#!/usr/bin/env bash
# Chapter 6's containers, side by side with podman, in hyperfine runs:
#   run --rm:  cratebox run --rm --network none demo true  vs podman run --rm (runc, no network)
#   run -d:    cratebox run -d demo true, until the id is printed
#   exec:      cratebox exec CTR true          vs nsenter -a -t PID true (the floor)
#                                              vs podman exec CTR true
# and the supervisor's memory per idle container (RSS and PSS) beside
# conmon's. Writes bench/results/ch06-{run,exec,memory}.{json,md}.
# Needs root; scripts/install-deps installs hyperfine and podman. podman
# gets a storage root of its own in the bench's temp dir, like cratebox.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p cratebox
bin=$(pwd)/target/release/cratebox
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
export CRATEBOX_ROOT=$work/state
podman=(podman --root "$work/podman" --runroot "$work/podman-run" --runtime runc
    --cgroup-manager cgroupfs --events-backend none)
podman_run=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cleanup() {
    "$bin" rm -f $("$bin" ps -aq) >/dev/null 2>&1 || true
    "${podman[@]}" rm -f -a >/dev/null 2>&1 || true
    "${podman[@]}" system reset -f >/dev/null 2>&1 || true
    awk -v dir="$work" 'index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mount_point; do umount -l "$mount_point" || true; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The demo image, for both: cratebox's own, saved and loaded into podman.
"$bin" run --rm --network none demo true
"$bin" save -o "$work/demo.tar" demo
"${podman[@]}" load -q -i "$work/demo.tar" >/dev/null
"${podman[@]}" tag "$("${podman[@]}" images -q | head -1)" localhost/demo:latest

mkdir -p bench/results
runs=${RUNS:-100}

# 1. A container that runs `true` and is removed, start to end.
hyperfine --warmup 5 --runs "$runs" -N \
    --export-json bench/results/ch06-run.json \
    -n "cratebox run --rm" "$bin run --rm --network none demo true" \
    -n "cratebox run -d (to the id)" "$bin run -d --network none demo true" \
    -n "podman run --rm" "${podman[*]} run --rm ${podman_run[*]} localhost/demo true"
"$bin" container prune >/dev/null
python3 bench/summarize.py bench/results/ch06-run.json "cratebox run --rm" > bench/results/ch06-run.md

# 2. exec into a running container, against the floor: nsenter into every
# namespace of its init, and nothing else (no cgroup, no environment).
"$bin" run -d --network none --name bench demo sleep 100000 >/dev/null
pid=$("$bin" inspect bench | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
"${podman[@]}" run -d --name bench "${podman_run[@]}" localhost/demo sleep 100000 >/dev/null
hyperfine --warmup 10 --runs "$runs" -N \
    --export-json bench/results/ch06-exec.json \
    -n "nsenter -a (floor)" "nsenter -a -t $pid true" \
    -n "cratebox exec" "$bin exec bench true" \
    -n "podman exec" "${podman[*]} exec bench true"
python3 bench/summarize.py bench/results/ch06-exec.json "nsenter -a (floor)" > bench/results/ch06-exec.md

# 3. What an idle container's supervisor costs: RSS, and PSS (the pages it
# shares with other processes, like the program's own code, counted in
# part).
memory() {
    local pid=$1
    awk '/^VmRSS/ { rss = $2 } END { printf "%d", rss }' "/proc/$pid/status"
    printf ' '
    awk '/^Pss:/ { printf "%d\n", $2 }' "/proc/$pid/smaps_rollup"
}
# The supervisor is the parent of the container's init; podman names
# its conmon.
supervisor=$(ps -o ppid= -p "$pid" | tr -d ' ')
conmon=$("${podman[@]}" inspect -f '{{.State.ConmonPid}}' bench)
read -r sup_rss sup_pss < <(memory "$supervisor")
read -r con_rss con_pss < <(memory "$conmon")
{
    echo "| supervisor of one idle container | RSS | PSS |"
    echo "|---|---:|---:|"
    echo "| cratebox (its supervisor while the container runs: \`cratebox-pump\`) | $((sup_rss)) KiB | $((sup_pss)) KiB |"
    echo "| podman's conmon $(conmon --version 2>/dev/null | awk 'NR==1 { print $3 }') | $((con_rss)) KiB | $((con_pss)) KiB |"
    echo
    echo "Read from /proc/PID/status and /proc/PID/smaps_rollup; Linux $(uname -r), $(uname -m)."
} > bench/results/ch06-memory.md

for table in run exec memory; do
    echo "== ch06-$table"
    cat "bench/results/ch06-$table.md"
done
