#!/usr/bin/env bash
# Chapter 9: what hardening costs a container's start, in one hyperfine run:
#   cratebox run --rm --network none demo true               (docker's defaults:
#                                                              14 capabilities, no_new_privs,
#                                                              seccomp, masked paths, nodev)
#   cratebox run --rm --privileged --network none demo true  (none of it)
#   podman run --rm --network none demo true                 (podman's defaults, runc)
#   podman run --rm --privileged ...                         (podman without them)
# The difference between the first two is the cost of hardening (the
# target is 1 ms or less). Writes bench/results/ch09-hardening.{json,md}.
# Then the same start rootless, as a user who is not root, beside podman
# as that user: bench/results/ch09-rootless.{json,md}.
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
    # The rootless user's pause processes, cratebox's and podman's: the
    # namespaces they hold (and the mounts in them) go with them.
    scripts/learner --stop "$work"
    kill -KILL "$(cat "$work/learner/run/libpod/tmp/pause.pid" 2>/dev/null)" 2>/dev/null || true
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
# hyperfine runs each command's runs in one block, and on a small machine
# a later block tends to run faster than an earlier one. So the two
# cratebox rows run twice, in the order A B B A, and the cost of hardening
# is the mean of the two differences (printed after the table).
hyperfine --warmup 5 --runs "$runs" -N \
    --export-json bench/results/ch09-hardening.json \
    -n "cratebox run --rm --privileged" "$bin run --rm --privileged --network none demo true" \
    -n "cratebox run --rm (hardened)" "$bin run --rm --network none demo true" \
    -n "cratebox run --rm (hardened, again)" "$bin run --rm --network none demo true" \
    -n "cratebox run --rm --privileged (again)" "$bin run --rm --privileged --network none demo true" \
    -n "podman run --rm (hardened)" "${podman[*]} run --rm ${podman_run[*]} localhost/demo true" \
    -n "podman run --rm --privileged" "${podman[*]} run --rm --privileged ${podman_run[*]} localhost/demo true"
{
    python3 bench/summarize.py bench/results/ch09-hardening.json "cratebox run --rm --privileged"
    python3 - bench/results/ch09-hardening.json <<'PY'
import json, statistics, sys
runs = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(sys.argv[1]))["results"]}
cost = ((runs["cratebox run --rm (hardened)"] - runs["cratebox run --rm --privileged"])
        + (runs["cratebox run --rm (hardened, again)"] - runs["cratebox run --rm --privileged (again)"])) / 2
print(f"\nThe cost of hardening (the mean of the two differences, A B B A): {cost:+.2f} ms per start.")
PY
} > bench/results/ch09-hardening.md
cat bench/results/ch09-hardening.md

# 2. Rootless: `learner` (scripts/learner: a user who exists only in mount
# namespaces of its own) runs the same container with cratebox and with
# podman. Every row pays the same wrapper (unshare, an overlay on /etc,
# setpriv), measured alone as the floor.
chmod 755 "$work"
chmod 644 "$work/demo.tar"
learner() { scripts/learner "$work" "$1"; }
learner "$bin run --rm --network none demo true"
learner "podman load -q -i $work/demo.tar >/dev/null && podman tag \$(podman images -q | head -1) localhost/demo:latest"
hyperfine --warmup 3 --runs "$runs" -N \
    --export-json bench/results/ch09-rootless.json \
    -n "the wrapper alone (floor)" "scripts/learner $work true" \
    -n "cratebox run --rm (rootless)" "scripts/learner $work '$bin run --rm --network none demo true'" \
    -n "podman run --rm (rootless)" "scripts/learner $work 'podman --log-level error run --rm --network none localhost/demo true'"
python3 bench/summarize.py bench/results/ch09-rootless.json "the wrapper alone (floor)" > bench/results/ch09-rootless.md
cat bench/results/ch09-rootless.md
