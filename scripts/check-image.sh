#!/usr/bin/env bash
# Checks a built image on a machine where containers cannot be started (`podman run` fails here: crun cannot set
# rlimits), by what can be done instead:
#   - its configuration: the user, the port, the volume, the healthcheck, the entrypoint and command, the mode;
#   - its contents: no compiler, /data owned by the image's user, the `tuitbot` CLI answers;
#   - its own files, run with `buildah run --isolation chroot` (host network, the image's user, environment and
#     working directory): the entrypoint and command from the image's configuration, then the HTTP checks of
#     scripts/lib/instance-checks.sh from the host, a stop by SIGTERM and a restart on the same /data.
# Called by scripts/build-image.sh after a build; alone: scripts/check-image.sh [IMAGE].
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${1:-localhost/tuitbot:dev}

work=$(mktemp -d "${TMPDIR:-/tmp}/tuitbot-image-check.XXXXXX")
ctr=""
server_pid=""
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then kill -KILL "$node_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=lib/instance-checks.sh
source "$repo/scripts/lib/instance-checks.sh"

step "configuration of $IMAGE"
# podman keeps the healthcheck beside the configuration (Healthcheck), Docker inside it (Config.Healthcheck).
podman image inspect "$IMAGE" \
  | node -e 'const [i] = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(JSON.stringify({ ...i.Config, Healthcheck: i.Healthcheck ?? i.Config.Healthcheck }))' \
  >"$work/config.json"
# One line per check, "ok - …" or "not ok - …", judged from the image's configuration.
while IFS= read -r line; do
  case "$line" in "ok - "*) ok "${line#ok - }" ;; *) not_ok "${line#not ok - }" ;; esac
done < <(node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const check = (pass, name) => console.log(`${pass ? "ok" : "not ok"} - ${name}`);
  const env = Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  check(c.User === "tuitbot", `runs as the tuitbot user (User: ${JSON.stringify(c.User)})`);
  check(Object.keys(c.ExposedPorts ?? {}).join() === "3001/tcp", "exposes 3001/tcp");
  check(Object.keys(c.Volumes ?? {}).join() === "/data", "declares the volume /data");
  check(/\/healthz/.test((c.Healthcheck?.Test ?? []).join(" ")), "has a HEALTHCHECK on /healthz");
  check(JSON.stringify(c.Entrypoint) === JSON.stringify(["tuitbot-entrypoint"]), "enters through tuitbot-entrypoint");
  check(JSON.stringify(c.Cmd) === JSON.stringify(["node", "--enable-source-maps", "dist/supervisor/cli.js", "serve"]), "runs the compiled server");
  check(env.TUITBOT_MODE === "self-host" && env.DATA_DIR === "/data" && env.NODE_ENV === "production", "self-host mode, data in /data, NODE_ENV=production");
' "$work/config.json")

user=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).User)' "$work/config.json")
entrypoint_and_cmd=$(node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log([...c.Entrypoint, ...c.Cmd].join(" "));
' "$work/config.json")

ctr=$(buildah from --pull-never "$IMAGE")
in_image() { buildah run --isolation chroot --user "$user" "$ctr" -- "$@"; }

step "contents"
tools=$(in_image sh -c 'for tool in g++ gcc make python3 curl; do command -v "$tool" || true; done')
[ -z "$tools" ] && ok "the runtime has no compiler, python or curl" || not_ok "the runtime has no compiler, python or curl (found: $tools)"
owner=$(in_image stat -c '%U %a' /data)
[ "$owner" = "tuitbot 700" ] && ok "/data belongs to tuitbot, mode 0700" || not_ok "/data belongs to tuitbot, mode 0700 (got $owner)"
in_image tuitbot --help >"$work/help" 2>&1 || true
grep -q 'tuitbot serve' "$work/help" && ok "the tuitbot CLI answers inside the image" || not_ok "the tuitbot CLI answers inside the image ($(cat "$work/help"))"

start_server() {
  local log="$1"
  # shellcheck disable=SC2086 # the image's entrypoint and command, word by word
  buildah run --isolation chroot --user "$user" --env HOST=127.0.0.1 --env PORT=0 "$ctr" -- $entrypoint_and_cmd >"$log" 2>&1 &
  server_pid=$!
  await_server "$log" "$server_pid"
  # chroot isolation shares the host's PID namespace: the pid in the log is the server's.
  node_pid=$(grep -o '"pid":[0-9]*' "$log" | head -1 | cut -d: -f2)
}

stop_server() {
  kill -TERM "$node_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  node_pid=""
  return "$status"
}

step "the image's files, run: $entrypoint_and_cmd (as $user, DATA_DIR=/data)"
start_server "$work/server.log"
check_new_instance
if stop_server; then ok "SIGTERM stops the server cleanly"; else not_ok "SIGTERM stops the server cleanly"; fi

step "restart on the same /data"
start_server "$work/server2.log"
check_login "after a restart the account logs in"
if stop_server; then ok "the restarted server stops cleanly"; else not_ok "the restarted server stops cleanly"; fi

echo "# image check: $failures failed"
[ "$failures" -eq 0 ]
