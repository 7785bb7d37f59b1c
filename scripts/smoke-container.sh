#!/usr/bin/env bash
# The container, without a container runtime: replays the Dockerfile's steps in a clean temporary directory and
# checks the result over HTTP, as `docker compose up` would be checked.
#
#   build stage    the build context (the repository's files minus .dockerignore) → dependencies → npm run build
#                  → npm run build:cloud → npm prune --omit=dev → chmod of the CLI
#   runtime stage  only what the Dockerfile copies (package.json, node_modules, dist, dashboard/build/cloud) in
#                  another directory; the image's ENV and CMD read from the Dockerfile; run by an unprivileged
#                  user (nobody, when started as root) through the image's entrypoint, on loopback
#   checks         /healthz, the Dockerfile's HEALTHCHECK command, /readyz, the web app, a signup (the first
#                  account of a self-hosted server is its admin; registration then closes), the session cookie,
#                  the account's tenant on a worker thread (/api/settings), a clean stop on SIGTERM, a restart on
#                  the same data directory (migrations at start) and a login, and the entrypoint's refusal of a
#                  data directory it cannot write
#
# Dependencies: by default the build stage's node_modules is a hard-linked copy of this checkout's (which `npm ci`
# made from the same lockfile, in CI a minute earlier), so the smoke test costs about two minutes instead of a
# second install and a 2.5-minute compile of better-sqlite3. SMOKE_FRESH_INSTALL=1 runs `npm ci` instead, as the
# image does. The copy is safe for the original: prune only unlinks, the one file npm rewrites in place
# (node_modules/.package-lock.json) is copied, not linked, and the runtime's `chmod a+rX` only adds read bits.
#
# Exit status 0 when every check passed; each check prints "ok - …" or "not ok - …".
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
dockerfile=$(realpath "${DOCKERFILE:-Dockerfile}")
export DOCKERFILE="$dockerfile"

work=$(mktemp -d "${TMPDIR:-/tmp}/tuitbot-smoke.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
chmod 0755 "$work"

# shellcheck source=lib/instance-checks.sh
source "$repo/scripts/lib/instance-checks.sh"
seconds_since() { echo "$(( $(date +%s) - $1 ))"; }

# ---- build stage --------------------------------------------------------------------------------------------
started=$(date +%s)
build="$work/build"
mkdir -p "$build"
step "context: the repository's files minus .dockerignore"
# Untracked files count (a developer's new files are in their context too); one that another process deletes
# while this copies (a test's scratch file) is not an error.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$build" 2>"$work/copy.log" \
  || ! grep -v 'No such file or directory' "$work/copy.log" >&2
# .dockerignore's patterns are relative to the context root (no ** in ours), as a shell glob there reads them;
# a later "!pattern" sends back what an earlier one left out.
(
  cd "$build"
  shopt -s nullglob dotglob
  declare -A kept=()
  while IFS= read -r pattern; do
    case "$pattern" in '!'*) for path in ${pattern#!}; do kept[$path]=1; done ;; esac
  done <"$repo/.dockerignore"
  while IFS= read -r pattern; do
    case "$pattern" in '' | '#'* | '!'*) continue ;; esac
    # shellcheck disable=SC2086 # the pattern is meant to glob
    for path in $pattern; do
      [ -n "${kept[$path]:-}" ] || rm -rf -- "$path"
    done
  done <"$repo/.dockerignore"
)

if [ "${SMOKE_FRESH_INSTALL:-0}" = 1 ]; then
  step "npm ci (fresh, as the image does)"
  (cd "$build" && npm ci --no-audit --no-fund >"$work/npm-ci.log" 2>&1) || { tail -30 "$work/npm-ci.log"; exit 1; }
else
  step "node_modules: a hard-linked copy of $repo/node_modules (SMOKE_FRESH_INSTALL=1 installs instead)"
  [ -d "$repo/node_modules" ] || { echo "no node_modules in $repo: run npm ci first" >&2; exit 1; }
  cp -al "$repo/node_modules" "$build/node_modules"
  if [ -f "$build/node_modules/.package-lock.json" ]; then
    cp --remove-destination "$repo/node_modules/.package-lock.json" "$build/node_modules/.package-lock.json"
  fi
fi

# The build stage's RUN, step by step, as the Dockerfile has it.
build_commands=$(node -e '
  const lines = require("fs").readFileSync(process.env.DOCKERFILE, "utf8").replace(/\\\n/g, " ").split("\n");
  const run = lines.find((line) => /^RUN npm run build\b/.test(line));
  if (!run) { console.error("no `RUN npm run build …` in the Dockerfile"); process.exit(1); }
  console.log(run.replace(/^RUN /, "").split("&&").map((c) => c.trim().replace(/\s+/g, " ")).join("\n"));
')
while IFS= read -r command; do
  step "$command"
  (cd "$build" && bash -c "$command" >"$work/step.log" 2>&1) || { tail -40 "$work/step.log"; not_ok "build step failed: $command"; exit 1; }
done <<<"$build_commands"
ok "build stage replayed ($(seconds_since "$started") s)"

# ---- runtime stage ------------------------------------------------------------------------------------------
runtime="$work/app"
mkdir -p "$runtime"
# What the runtime stage copies from the build stage, read from the Dockerfile.
copied=$(grep -oE '^COPY --from=build /app/[^ ]+' "$dockerfile" | sed 's|^COPY --from=build /app/||')
for path in $copied; do
  mkdir -p "$runtime/$(dirname "$path")"
  mv "$build/$path" "$runtime/$path"
done
rm -rf "$build"
cp scripts/docker-entrypoint.sh "$work/entrypoint"

# The image's ENV (one instruction, continued lines) and CMD, from the Dockerfile.
image_env=$(node -e '
  const text = require("fs").readFileSync(process.env.DOCKERFILE, "utf8").replace(/\\\n/g, " ");
  const runtime = text.slice(text.lastIndexOf("\nFROM "));
  const env = runtime.split("\n").filter((line) => line.startsWith("ENV ")).flatMap((line) => line.slice(4).trim().split(/\s+/));
  console.log(env.join("\n"));
')
image_cmd=$(node -e '
  const text = require("fs").readFileSync(process.env.DOCKERFILE, "utf8");
  console.log(JSON.parse(text.match(/^CMD (\[.*\])$/m)[1]).join(" "));
')
healthcheck_cmd=$(node -e '
  const text = require("fs").readFileSync(process.env.DOCKERFILE, "utf8").replace(/\\\n/g, " ");
  process.stdout.write(JSON.stringify(JSON.parse(text.match(/^HEALTHCHECK .*? CMD (\[.*\])$/m)[1])));
')

data="$work/data"
mkdir -p "$data"
# As the image: an unprivileged user. Started as root (CI), that is nobody, who owns only the data directory.
as_image_user=()
if [ "$(id -u)" -eq 0 ]; then
  chown 65534:65534 "$data"
  as_image_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod -R a+rX "$runtime"

start_server() {
  local log="$1"
  (
    cd "$runtime"
    # shellcheck disable=SC2046 # one NAME=value per line
    exec env -i PATH="$PATH" $(echo "$image_env") DATA_DIR="$data" HOST=127.0.0.1 PORT=0 \
      "${as_image_user[@]}" "$work/entrypoint" $image_cmd
  ) >"$log" 2>&1 &
  server_pid=$!
  await_server "$log" "$server_pid"
}

stop_server() {
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  return "$status"
}

step "start: $image_cmd (as uid $([ "$(id -u)" -eq 0 ] && echo 65534 || id -u), DATA_DIR in the temporary directory)"
start_server "$work/server.log"
grep -q '"mode":"self-host"' "$work/server.log" && ok "the image's ENV starts self-host mode" || not_ok "the image's ENV starts self-host mode"

check_new_instance

if (cd "$runtime" && env -i PATH="$PATH" PORT="$port" node -e "$(node -e 'console.log(JSON.parse(process.argv[1])[2])' "$healthcheck_cmd")"); then
  ok "the Dockerfile's HEALTHCHECK command passes"
else
  not_ok "the Dockerfile's HEALTHCHECK command passes"
fi

if stop_server; then ok "SIGTERM stops the server cleanly"; else not_ok "SIGTERM stops the server cleanly"; fi
if [ -f "$data/management.db" ] && ls "$data"/tenants/*.db >/dev/null 2>&1; then
  ok "the data directory holds management.db and the tenant's DB"
else
  not_ok "the data directory holds management.db and the tenant's DB ($(ls -R "$data"))"
fi

step "restart on the same data directory"
start_server "$work/server2.log"
check_login "after a restart the account logs in"
if stop_server; then ok "the restarted server stops cleanly"; else not_ok "the restarted server stops cleanly"; fi

if [ "$(id -u)" -eq 0 ]; then
  locked="$work/locked"
  mkdir -p "$locked"
  chmod 0755 "$locked"
  if out=$(cd "$runtime" && env -i PATH="$PATH" DATA_DIR="$locked" "${as_image_user[@]}" "$work/entrypoint" true 2>&1); then
    not_ok "the entrypoint refuses a data directory it cannot write"
  elif echo "$out" | grep -q 'is not writable'; then
    ok "the entrypoint refuses a data directory it cannot write, and says how to fix it"
  else
    not_ok "the entrypoint refuses a data directory it cannot write (said: $out)"
  fi
fi

echo "# smoke: $failures failed, $(seconds_since "$started") s"
[ "$failures" -eq 0 ]
