#!/usr/bin/env bash
# Container start-up, side by side in one hyperfine run:
#   ch02-namespaces --rootfs R /bin/true           (this book's chapter 2)
#   unshare -p -f -m -u -i -n chroot R /bin/true   (the floor: namespaces + chroot, nothing else)
#   runc run                                       (Debian's runc, same rootfs)
# Writes bench/results/ch02-start.{json,md}; the book's performance appendix
# quotes the .md. Needs root; scripts/install-deps installs hyperfine and runc.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch02-namespaces
bin=target/release/ch02-namespaces
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The demo image, built once into the bench's own state root.
CRATEBOX_ROOT=$work/state $bin /bin/true
rootfs=$work/state/demo/rootfs

# A runc bundle over the same rootfs: runc's default spec, running /bin/true
# without a terminal, root file system read-write like ours.
mkdir -p "$work/bundle"
(cd "$work/bundle" && runc spec)
python3 - "$work/bundle/config.json" "$rootfs" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["root"] = {"path": rootfs, "readonly": False}
spec["process"]["args"] = ["/bin/true"]
spec["process"]["terminal"] = False
json.dump(spec, open(path, "w"), indent=2)
PY

mkdir -p bench/results
hyperfine --warmup 20 --runs "${RUNS:-200}" -N \
    --export-json bench/results/ch02-start.json \
    -n "ch02-namespaces" "$bin --rootfs $rootfs /bin/true" \
    -n "unshare+chroot (floor)" "unshare -p -f -m -u -i -n chroot $rootfs /bin/true" \
    -n "runc run" "runc --root $work/runc-state run --bundle $work/bundle cratebox-bench"

python3 bench/summarize.py bench/results/ch02-start.json "unshare+chroot (floor)" > bench/results/ch02-start.md
cat bench/results/ch02-start.md
