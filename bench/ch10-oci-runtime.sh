#!/usr/bin/env bash
# Chapter 10: cratebox-runtime, the OCI runtime, beside runc and crun, in
# three hyperfine runs, each with every runtime side by side:
#   podman:    podman --runtime R run --rm --network none localhost/bb true
#              (the whole engine: podman, conmon, then the runtime's create,
#              start and delete)
#   run:       R run --bundle B ID
#              (the runtime alone, one command: create, start, wait for
#              `true` to end, delete)
#   lifecycle: R create --bundle B ID && R start ID && R delete --force ID
#              (the runtime alone, as an engine drives it: three commands,
#              three processes, each one reading the container's record;
#              delete --force right after start, killing the container's
#              process if it has not ended yet, perhaps before it has
#              reached `true`, so that nothing polls `state` for the end)
# for R = cratebox-runtime, runc and crun. crun is left out of a table
# where it refuses to run: on a host whose cgroups are in hybrid mode
# (v1 controllers beside an empty cgroup2) it stops at "cgroups in hybrid
# mode not supported". The image and the bundle hold one program, a
# static busybox, and config.json is `runc spec`'s default, running
# `true` without a terminal.
# Writes bench/results/ch10-{podman,run,lifecycle}.{json,md}; the ratios
# are to runc.
# Run: bench/ch10-oci-runtime.sh (RUNS=10 bench/ch10-oci-runtime.sh for a
# quick look). Needs root; scripts/install-deps installs hyperfine,
# podman, runc, crun and busybox-static. Every runtime keeps its state
# (--root) in the bench's temp dir, and podman its storage and its
# --tmpdir, so nothing is written to /run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch10-oci-runtime
cratebox_runtime=$(pwd)/target/release/cratebox-runtime
runc=$(command -v runc)
crun=$(command -v crun)
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
# One id for every container: the runs follow one another, each runtime
# has a state root of its own, and the cleanup finds a leftover cgroup by
# this name.
id=ch10-bench-${work##*.}
podman=(podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp"
    --cgroup-manager cgroupfs --events-backend none)
podman_run=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cleanup() {
    for rt in "$cratebox_runtime" "$runc" "$crun"; do
        "$rt" --root "$work/state/$(basename "$rt")" delete --force "$id" >/dev/null 2>&1 || true
    done
    "${podman[@]}" --runtime "$runc" rm -f -a >/dev/null 2>&1 || true
    "${podman[@]}" --runtime "$runc" system reset -f >/dev/null 2>&1 || true
    awk -v dir="$work" 'index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mount_point; do umount -l "$mount_point" || true; done
    # A container's cgroup (no cgroupsPath in the bundle: named after the
    # id), if a runtime was stopped before its delete.
    find /sys/fs/cgroup -depth -type d -name "$id" -exec rmdir {} + 2>/dev/null || true
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The image: a busybox rootfs, `true` and `sh` linked to it. Unpacked
# as a bundle for the runtimes alone, imported into podman's storage.
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
ln -s busybox "$work/bundle/rootfs/bin/true"
ln -s busybox "$work/bundle/rootfs/bin/sh"
tar -C "$work/bundle/rootfs" -cf "$work/rootfs.tar" .
"${podman[@]}" import -q "$work/rootfs.tar" localhost/bb >/dev/null
# runc's default config.json, its program `true` instead of `sh`, and
# no terminal (`run` in the foreground refuses one without a console).
(cd "$work/bundle" && "$runc" spec)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"]["args"] = ["true"]
config["process"]["terminal"] = False
json.dump(config, open(path, "w"), indent=2)
PY

# Each runtime as podman drives it, its --root in the temp dir. Not with
# podman's --runtime-flag root=DIR: the command conmon runs when the
# container ends (podman container cleanup --rm) does not carry it, and
# its delete looks in the runtime's default root, finds nothing and
# leaves the container's state and cgroups behind. A wrapper of the same
# name, which podman names in that command too, adds the flag instead,
# at the cost of one sh per runtime call in every row alike.
mkdir -p "$work/bin"
for rt in "$cratebox_runtime" "$runc" "$crun"; do
    name=$(basename "$rt")
    printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$rt" "$work/podman-state/$name" > "$work/bin/$name"
    chmod +x "$work/bin/$name"
done
podman_with() {
    local rt=$1
    echo "${podman[*]} --runtime $work/bin/$(basename "$rt")"
}
runtime() {
    local rt=$1
    echo "$rt --root $work/state/$(basename "$rt")"
}
# crun, where it runs: tried once under podman and once alone, and left
# out of the tables where it failed, with the reason.
with_crun=yes
if ! out=$($(podman_with "$crun") run --rm "${podman_run[@]}" localhost/bb true 2>&1) ||
    ! out=$($(runtime "$crun") run --bundle "$work/bundle" "$id" 2>&1); then
    with_crun=
    echo "crun is left out of the tables: $(echo "$out" | tail -1)"
    "$crun" --root "$work/state/crun" delete --force "$id" >/dev/null 2>&1 || true
fi

# The order of the rows: cratebox-runtime first, where a block that runs
# earlier on a small machine is, if anything, at a disadvantage (see
# ch09-hardening.sh).
podman_rows=() run_rows=() lifecycle_rows=()
for rt in "$cratebox_runtime" "$runc" ${with_crun:+"$crun"}; do
    name=$(basename "$rt")
    r=$(runtime "$rt")
    podman_rows+=(-n "podman + $name" "$(podman_with "$rt") run --rm ${podman_run[*]} localhost/bb true")
    run_rows+=(-n "$name run" "$r run --bundle $work/bundle $id")
    lifecycle_rows+=(-n "$name create+start+delete"
        "sh -c '$r create --bundle $work/bundle $id && $r start $id && $r delete --force $id'")
    # Once before the runs: runc's default config must suit every runtime.
    $r run --bundle "$work/bundle" "$id"
done

mkdir -p bench/results
runs=${RUNS:-100}

# 1. The whole engine.
hyperfine --warmup 3 --runs "$runs" -N \
    --export-json bench/results/ch10-podman.json "${podman_rows[@]}"
python3 bench/summarize.py bench/results/ch10-podman.json "podman + runc" > bench/results/ch10-podman.md

# 2. The runtime alone, one command.
hyperfine --warmup 5 --runs "$runs" -N \
    --export-json bench/results/ch10-run.json "${run_rows[@]}"
python3 bench/summarize.py bench/results/ch10-run.json "runc run" > bench/results/ch10-run.md

# 3. The runtime alone, three commands.
hyperfine --warmup 5 --runs "$runs" -N \
    --export-json bench/results/ch10-lifecycle.json "${lifecycle_rows[@]}"
python3 bench/summarize.py bench/results/ch10-lifecycle.json "runc create+start+delete" \
    > bench/results/ch10-lifecycle.md

# Every delete did its work: no record left in any runtime's root.
left=$(find "$work/state" "$work/podman-state" -mindepth 2 -maxdepth 2 2>/dev/null)
[ -z "$left" ] || { echo "containers left behind:"; echo "$left"; exit 1; }

for table in podman run lifecycle; do
    echo "== ch10-$table"
    cat "bench/results/ch10-$table.md"
done
