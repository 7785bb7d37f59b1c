#!/usr/bin/env bash
# Builds the TuitBot image on a machine without a Docker daemon or registry access (these development machines):
#
#   1. a Debian bookworm base made locally with debootstrap (minbase), with this machine's Node 20 copied in —
#      the node binary and npm from the running installation (`command -v node`), placed where the official
#      node:20-bookworm-slim image has them (/usr/local/bin, /usr/local/lib/node_modules/npm). Debian's own
#      `nodejs` package is Node 18, which the product refuses (engines >=20.19), so it is not an option.
#      Two settings of this machine come along so that `npm ci` in the build stage works here as it does on the
#      host: Node's headers (/usr/include/node → /usr/local/include/node, npm_config_nodedir; node-gyp cannot
#      download them from nodejs.org here) and the host's CA bundle (NODE_EXTRA_CA_CERTS; the registry is reached
#      through this network's TLS proxy). Both end up in this local test image only: a released image is built
#      with Docker on the official base, which needs neither;
#   2. the real Dockerfile, built on that base with `podman build --isolation=chroot`;
#   3. a check of the result: the image's metadata (user, port, volume, healthcheck, command), then the image's
#      own files run with `buildah run --isolation chroot` (podman run cannot start containers here) on host
#      networking, answering /healthz, /readyz and a signup from the host.
#
# Not run in CI (8 minutes from nothing on a loaded 2-core machine, 2 to rebuild after a source change); run it
# by hand after changing the Dockerfile. With Docker elsewhere, the same
# Dockerfile builds with the default base: `docker build -t tuitbot .`.
#
# Usage: scripts/build-image.sh [--rebuild-base] [--no-check]
#   IMAGE (default localhost/tuitbot:dev), BASE_IMAGE and BASE_TAG (default localhost/tuitbot-base, bookworm-node20),
#   DEBIAN_MIRROR (default http://deb.debian.org/debian), WORK_DIR (default /var/tmp/tuitbot-image).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/tuitbot:dev}
BASE_IMAGE=${BASE_IMAGE:-localhost/tuitbot-base}
BASE_TAG=${BASE_TAG:-bookworm-node20}
base="$BASE_IMAGE:$BASE_TAG"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK_DIR=${WORK_DIR:-/var/tmp/tuitbot-image}
rebuild_base=false
check=true
for arg in "$@"; do
  case "$arg" in
    --rebuild-base) rebuild_base=true ;;
    --no-check) check=false ;;
    *) echo "usage: $0 [--rebuild-base] [--no-check]" >&2; exit 2 ;;
  esac
done

for tool in podman buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y podman buildah debootstrap)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "debootstrap and chroot builds need root" >&2; exit 1; }

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

make_base() {
  local started rootfs node_bin npm_dir
  started=$(date +%s)
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  case "$("$node_bin" --version)" in
    v20.*) ;;
    *) echo "the node on PATH must be Node 20 (found $("$node_bin" --version))" >&2; exit 1 ;;
  esac
  rootfs="$WORK_DIR/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"
  echo "== base: debootstrap --variant=minbase bookworm ($DEBIAN_MIRROR)"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK_DIR/debootstrap.log"; exit 1; }
  echo "== base: Node $("$node_bin" --version) and npm $(npm --version) from $node_bin, $npm_dir"
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  headers=$(dirname "$(dirname "$node_bin")")/include/node
  [ -f "$headers/node.h" ] || { echo "Node's headers are missing ($headers/node.h)" >&2; exit 1; }
  mkdir -p "$rootfs/usr/local/include"
  cp -a "$headers" "$rootfs/usr/local/include/node"
  install -D -m 0644 "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$rootfs/usr/local/share/tuitbot-build/ca-certificates.crt"
  env -u NODE_EXTRA_CA_CERTS chroot "$rootfs" /usr/local/bin/node -e 'require("node:crypto").randomUUID()' \
    || { echo "the copied node does not run inside the base" >&2; exit 1; }
  # What the official slim images drop: package lists and caches.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV npm_config_nodedir=/usr/local' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/tuitbot-build/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    - "$base" >/dev/null
  rm -rf "$rootfs"
  echo "== base: $base made in $(elapsed "$started")"
}

mkdir -p "$WORK_DIR"
if $rebuild_base || ! podman image exists "$base"; then
  make_base
else
  echo "== base: $base exists (--rebuild-base to make it again)"
fi

echo "== image: podman build --isolation=chroot on $base -t $IMAGE"
started=$(date +%s)
# Docker format keeps HEALTHCHECK (the OCI format has no field for it).
podman build --isolation=chroot --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "BASE_TAG=$BASE_TAG" -t "$IMAGE" -f Dockerfile . \
  >"$WORK_DIR/build.log" 2>&1 && podman image exists "$IMAGE" \
  || { tail -40 "$WORK_DIR/build.log"; echo "build failed (full log: $WORK_DIR/build.log)" >&2; exit 1; }
echo "== image: $IMAGE built in $(elapsed "$started"), $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"

$check || exit 0
exec scripts/check-image.sh "$IMAGE"
