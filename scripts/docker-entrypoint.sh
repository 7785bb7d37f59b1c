#!/bin/sh
# The image's entrypoint: checks that the data directory is writable before the server starts, so a wrongly
# owned volume says how to fix it instead of failing deep inside SQLite. Started as root (`--user 0`, e.g. to
# adopt a volume created by root), it hands the data directory to the tuitbot user and drops to it first.
set -eu
data_dir=${DATA_DIR:-/data}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$data_dir"
  chown -R tuitbot:tuitbot "$data_dir"
  exec setpriv --reuid=tuitbot --regid=tuitbot --init-groups "$0" "$@"
fi

if ! mkdir -p "$data_dir" 2>/dev/null || [ ! -w "$data_dir" ]; then
  echo "tuitbot: $data_dir is not writable by uid $(id -u) (gid $(id -g))." >&2
  echo "  A bind mount: chown -R $(id -u):$(id -g) <host directory>." >&2
  echo "  Or start the container once as root (docker compose run --rm --user 0 tuitbot true) to hand it over." >&2
  exit 1
fi
exec "$@"
