#!/usr/bin/env bash
# Chapter 8: pull and push of a 5-layer, ~200 MB image on a registry of the
# benchmark's own (docker-registry on 127.0.0.1), side by side in hyperfine
# runs:
#   pull:  cratebox pull             download, verify, unpack: ready to run
#          podman pull               the same work, into podman's storage
#          skopeo copy → oci: layout download and verify, no unpack
#          skopeo copy → oci: layout, as uncompressed as it came
#   push:  cratebox push vs skopeo copy oci: layout → docker://
# The image twice: as cratebox builds and pushes it (plain tar layers), and
# with gzip layers, as most registries serve them. Everything (state,
# podman's storage, the registry's) lives on a tmpfs in the bench's temp
# dir, so the disk's write-back does not decide the figures. Writes
# bench/results/ch08-{pull-plain,pull-gzip,push}.{json,md}.
# Needs root; scripts/install-deps installs hyperfine, docker-registry,
# skopeo and podman.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps >/dev/null

cargo build --release -q -p cratebox
bin=$(pwd)/target/release/cratebox
work=$(mktemp -d /tmp/cratebox-bench.XXXXXX)
mount -t tmpfs -o size=6g cratebox-bench "$work"
export CRATEBOX_ROOT=$work/state CRATEBOX_CONFIG=$work/config
podman=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    [ ! -f "$work/registry.pid" ] || kill "$(cat "$work/registry.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    "${podman[@]}" system reset -f >/dev/null 2>&1 || true
    awk -v dir="$work" 'index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mount_point; do umount -l "$mount_point" || true; done
    umount -l "$work" 2>/dev/null || true
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The registry, on a port the kernel picks; `fresh_registry` empties it
# (stop, remove its storage, start, wait for it), for the push runs.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry=127.0.0.1:$port
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $registry
  secret: bench
YAML
cat >"$work/fresh-registry" <<SCRIPT
#!/usr/bin/env bash
[ ! -f "$work/registry.pid" ] || { kill \$(cat "$work/registry.pid") 2>/dev/null; while kill -0 \$(cat "$work/registry.pid") 2>/dev/null; do sleep 0.01; done; }
rm -rf "$work/registry"
docker-registry serve "$work/registry.yml" >>"$work/registry.log" 2>&1 &
echo \$! >"$work/registry.pid"
for _ in \$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 0; sleep 0.05; done
echo "the registry did not start" >&2; exit 1
SCRIPT
chmod +x "$work/fresh-registry"
"$work/fresh-registry"
mkdir -p "$CRATEBOX_CONFIG"
echo "{\"insecure-registries\": [\"$registry\"]}" >"$CRATEBOX_CONFIG/daemon.json"

# The image: five layers of about 40 MB each, files taken from the host's
# /usr (programs, libraries, documentation: what images hold).
context=$work/context
python3 - "$context" <<'PY'
import os, shutil, sys
context = sys.argv[1]
sources = ["/usr/lib/x86_64-linux-gnu", "/usr/share/doc", "/usr/bin", "/usr/lib/python3", "/usr/share/locale"]
for n, source in enumerate(sources, 1):
    total = 0
    for root, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if size > 8e6 or total + size > 40e6:
                continue
            dest = os.path.join(context, f"l{n}", os.path.relpath(path, source))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(path, dest)
            total += size
        if total > 39e6:
            break
with open(os.path.join(context, "Dockerfile"), "w") as f:
    f.write("FROM scratch\n" + "".join(f"COPY l{n} /l{n}\n" for n in range(1, 6)))
PY
"$bin" build -q -t bench/big "$context" >/dev/null
plain=$registry/bench/plain:v1
"$bin" tag bench/big "$plain"
"$bin" push -q "$plain" >/dev/null
# The same image with gzip layers, made as an OCI layout and pushed by skopeo.
"$bin" save -o "$work/big.tar" bench/big
mkdir "$work/gzip-layout"
tar -xf "$work/big.tar" -C "$work/gzip-layout"
python3 - "$work/gzip-layout" <<'PY'
import gzip, hashlib, json, os, sys
layout = sys.argv[1]
blob = lambda d: os.path.join(layout, "blobs/sha256", d.split(":")[1])
def put(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(digest), "wb").write(data)
    return digest
index = json.load(open(os.path.join(layout, "index.json")))
entry = index["manifests"][0]
manifest = json.load(open(blob(entry["digest"])))
for layer in manifest["layers"]:
    packed = gzip.compress(open(blob(layer["digest"]), "rb").read(), compresslevel=6, mtime=0)
    os.remove(blob(layer["digest"]))
    layer.update(digest=put(packed), size=len(packed), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
raw = json.dumps(manifest, separators=(",", ":")).encode()
entry.update(digest=put(raw), size=len(raw))
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
PY
gzip_name=$registry/bench/gzip:v1
skopeo copy -q --insecure-policy --dest-tls-verify=false "oci:$work/gzip-layout:latest" "docker://$gzip_name"
sizes() { skopeo inspect --raw --tls-verify=false "docker://$1" | python3 -c 'import json,sys; print(" + ".join("%.0f" % (l["size"] / 1e6) for l in json.load(sys.stdin)["layers"]), "MB")'; }

# Before each pull: every tool's copy gone. (A script: hyperfine runs
# commands without a shell.)
cat >"$work/forget-pulls" <<SCRIPT
#!/usr/bin/env bash
rm -rf "$work/state" "$work/oci-out"
${podman[*]} rmi -a -f >/dev/null 2>&1 || true
SCRIPT
chmod +x "$work/forget-pulls"

mkdir -p bench/results
runs=${RUNS:-10}
# pull TABLE NAME: each tool, from nothing, into a store of its own.
pull() {
    local table=$1 name=$2
    hyperfine --warmup 1 --runs "$runs" -N \
        --export-json "bench/results/ch08-pull-$table.json" \
        --prepare "$work/forget-pulls" \
        -n "cratebox pull" "$bin pull -q $name" \
        -n "skopeo copy to an OCI layout" "skopeo copy -q --src-tls-verify=false docker://$name oci:$work/oci-out:v1" \
        -n "skopeo copy, layers kept as they are" "skopeo copy -q --src-tls-verify=false --dest-oci-accept-uncompressed-layers docker://$name oci:$work/oci-out:v1" \
        -n "podman pull" "${podman[*]} pull -q --tls-verify=false $name"
    {
        python3 bench/summarize.py "bench/results/ch08-pull-$table.json" "cratebox pull"
        echo
        echo "Layers: $(sizes "$name"); blobs verified by every tool, unpacked by cratebox and podman."
    } >"bench/results/ch08-pull-$table.md"
}
pull plain "$plain"
pull gzip "$gzip_name"

# push: the gzip image, from cratebox's store and from the OCI layout, each
# time to an empty registry.
"$bin" pull -q "$gzip_name" >/dev/null
hyperfine --warmup 1 --runs "$runs" -N \
    --export-json bench/results/ch08-push.json \
    --prepare "$work/fresh-registry" \
    -n "cratebox push" "$bin push -q $gzip_name" \
    -n "skopeo copy from an OCI layout" "skopeo copy -q --insecure-policy --dest-tls-verify=false oci:$work/gzip-layout:latest docker://$gzip_name"
python3 bench/summarize.py bench/results/ch08-push.json "cratebox push" >bench/results/ch08-push.md

for table in pull-plain pull-gzip push; do
    echo "== ch08-$table"
    cat "bench/results/ch08-$table.md"
done
