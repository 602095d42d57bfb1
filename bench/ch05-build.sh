#!/usr/bin/env bash
# Chapter 5: building a 6-instruction Dockerfile (FROM, ENV, WORKDIR, COPY,
# RUN, CMD), cratebox beside buildah, each table from one hyperfine run:
#   1. cold: every step runs     ch05-dockerfile build --no-cache  vs  buildah bud
#                                 (target: at least 5x faster)
#   2. cached: every step reused ch05-dockerfile build             vs  buildah bud --layers
#                                 (target: at least 10x faster)
# Both builders start from the same base image (the demo image, copied into
# buildah's storage with skopeo) in their own temp directories. buildah runs
# with its defaults (overlay storage, OCI isolation through runc) and the
# ulimits this kind of host needs; a row with --isolation chroot, its
# lightest mode, is there for comparison.
# Writes bench/results/ch05-build-{cold,cached}.{json,md}. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p ch05-dockerfile
ch05=$PWD/target/release/ch05-dockerfile
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
export CRATEBOX_ROOT=$work/state
buildah="buildah --root $work/buildah/root --runroot $work/buildah/run"
cleanup() {
    # buildah's overlay storage mounts while it has working containers.
    $buildah rm --all >/dev/null 2>&1 || true
    $buildah unmount --all >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ctx"
cat >"$work/ctx/Dockerfile" <<'DOCKERFILE'
FROM demo
ENV APP_HOME=/app MODE=bench
WORKDIR /app
COPY app.sh .
RUN chmod +x app.sh && echo built > stamp
CMD ["./app.sh"]
DOCKERFILE
printf '#!/bin/sh\necho "$MODE app in $APP_HOME"\n' >"$work/ctx/app.sh"

# The same base on both sides.
$ch05 save -o "$work/demo.tar" demo
skopeo copy -q "oci-archive:$work/demo.tar" \
    "containers-storage:[overlay@$work/buildah/root+$work/buildah/run]localhost/demo:latest"
ulimits="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

mkdir -p bench/results
hyperfine --warmup 2 --runs "${COLD_RUNS:-20}" -N \
    --export-json bench/results/ch05-build-cold.json \
    -n "buildah bud" "$buildah bud -q $ulimits -t bench $work/ctx" \
    -n "buildah bud --isolation chroot" "$buildah bud -q --isolation chroot $ulimits -t bench $work/ctx" \
    -n "ch05-dockerfile build --no-cache" "$ch05 build -q --no-cache -t bench $work/ctx"
python3 bench/summarize.py bench/results/ch05-build-cold.json "buildah bud" > bench/results/ch05-build-cold.md

hyperfine --warmup 2 --runs "${CACHED_RUNS:-30}" -N \
    --export-json bench/results/ch05-build-cached.json \
    -n "buildah bud --layers" "$buildah bud -q --layers $ulimits -t bench $work/ctx" \
    -n "ch05-dockerfile build" "$ch05 build -q -t bench $work/ctx"
python3 bench/summarize.py bench/results/ch05-build-cached.json "buildah bud --layers" > bench/results/ch05-build-cached.md

# Both images run the same.
[ "$($ch05 run --rm bench)" = "bench app in /app" ]

for table in cold cached; do echo "## $table"; cat "bench/results/ch05-build-$table.md"; done
