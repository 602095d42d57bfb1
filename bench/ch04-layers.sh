#!/usr/bin/env bash
# Chapter 4's three costs, each side by side in one hyperfine run:
#   1. unpacking a layer vs GNU tar extracting the same tar      (target: within 1.3x of tar)
#   2. a container's root (dirs + overlay mount + unmount + rm) for the
#      demo image vs a 1 GB, 10k-file image                     (target: the same, under 5 ms)
#   3. commit after changing one file, demo image vs the big one (target: under 10 ms)
# Writes bench/results/ch04-{unpack,rootfs,commit}.md. Needs root and ~3 GB of /tmp.
# Each unpack starts after `sync`: otherwise one run pays for writing back
# the previous run's gigabyte, and the ratio says more about the order of
# the runs than about the code.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch04-layers
cargo build --release -q -p cratebox-image --examples
ch04=$PWD/target/release/ch04-layers
unpack=$PWD/target/release/examples/unpack
cycle=$PWD/target/release/examples/rootfs_cycle
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export CRATEBOX_ROOT=$work/state

# The big image: the demo root file system plus 10,000 files of 100 KiB.
$ch04 images >/dev/null   # creates the state and the demo image
$ch04 run --rm demo /bin/true
mkdir -p "$work/big"
cp -a "$CRATEBOX_ROOT/demo/rootfs/." "$work/big/"
python3 - "$work/big/data" <<'PY'
import os, sys
root = sys.argv[1]
block = os.urandom(100 * 1024)
for d in range(100):
    os.makedirs(f"{root}/{d:02}", exist_ok=True)
    for f in range(100):
        with open(f"{root}/{d:02}/f{f:03}", "wb") as out:
            out.write(block[f:] + block[:f])
PY
tar -C "$work/big" -cf "$work/big.tar" .
$ch04 import "$work/big.tar" big >/dev/null
demo_layer=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rootfs']['diff_ids'][0].split(':')[1])" \
    "$CRATEBOX_ROOT/oci/blobs/sha256/$($ch04 inspect demo | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"].split(":")[1])')")
big_layer=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rootfs']['diff_ids'][0].split(':')[1])" \
    "$CRATEBOX_ROOT/oci/blobs/sha256/$($ch04 inspect big | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"].split(":")[1])')")

mkdir -p bench/results
hyperfine --warmup 1 --runs "${UNPACK_RUNS:-5}" -N \
    --prepare "bash -c 'rm -rf $work/out; sync'" --prepare "bash -c 'rm -rf $work/out; sync'" \
    --export-json bench/results/ch04-unpack.json \
    -n "GNU tar -xf" "bash -c 'mkdir $work/out && tar -xf $work/big.tar -C $work/out'" \
    -n "cratebox unpack" "bash -c 'mkdir $work/out && $unpack $work/big.tar $work/out'"
python3 bench/summarize.py bench/results/ch04-unpack.json "GNU tar -xf" > bench/results/ch04-unpack.md

hyperfine --warmup 20 --runs "${RUNS:-200}" -N \
    --export-json bench/results/ch04-rootfs.json \
    -n "demo image (5 MB)" "$cycle $CRATEBOX_ROOT/layers/$demo_layer" \
    -n "big image (1 GB, 10k files)" "$cycle $CRATEBOX_ROOT/layers/$big_layer"
python3 bench/summarize.py bench/results/ch04-rootfs.json "demo image (5 MB)" > bench/results/ch04-rootfs.md

change="echo changed >> /etc/hostname"
hyperfine --warmup 2 --runs "${COMMIT_RUNS:-30}" -N \
    --prepare "bash -c '$ch04 rm c >/dev/null 2>&1; $ch04 run --name c demo /bin/sh -c \"$change\"'" \
    --prepare "bash -c '$ch04 rm c >/dev/null 2>&1; $ch04 run --name c big /bin/sh -c \"$change\"'" \
    --export-json bench/results/ch04-commit.json \
    -n "commit, demo image" "$ch04 commit c committed:demo" \
    -n "commit, big image (10k files)" "$ch04 commit c committed:big"
python3 bench/summarize.py bench/results/ch04-commit.json "commit, demo image" > bench/results/ch04-commit.md
$ch04 rm c >/dev/null

for table in unpack rootfs commit; do echo "## $table"; cat "bench/results/ch04-$table.md"; done
