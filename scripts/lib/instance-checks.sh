# shellcheck shell=bash
# The HTTP checks of a freshly started self-hosted instance, shared by scripts/smoke-container.sh (the image's
# steps replayed) and scripts/check-image.sh (the built image's own files). Sourced; expects $work (a scratch
# directory) and, before each check, $base (http://127.0.0.1:<port>). Each check prints "ok - …" or "not ok - …"
# and counts failures in $failures.

failures=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; failures=$((failures + 1)); }
step() { echo "# $1"; }

# Waits for the server started as process $2 to log its port in $1 (60 s at most), then sets $port and $base.
# A server that dies or stays silent fails the check and ends the script, with its log.
await_server() {
  local log="$1" pid="$2"
  port=""
  for _ in $(seq 1 300); do
    port=$(grep -o '"port":[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$port" ]; then
    not_ok "the server starts as the image starts it"
    cat "$log"
    exit 1
  fi
  base="http://127.0.0.1:$port"
}

# Prints the status code; the body is left in $work/body.
request() { curl -sS -o "$work/body" -w '%{http_code}' "$@"; }
body() { head -c 2000 "$work/body"; }

# /healthz, /readyz, the web app, the first signup (the admin), its session, its tenant, and closed registration after it.
# Sets $email and $password for check_login.
check_new_instance() {
  local status
  status=$(request "$base/healthz")
  [ "$status" = 200 ] && ok "/healthz answers 200" || not_ok "/healthz answers 200 (got $status: $(body))"

  status=$(request "$base/readyz")
  [ "$status" = 200 ] && ok "/readyz answers 200" || not_ok "/readyz answers 200 (got $status: $(body))"

  # The dashboard's build, where the image puts it: a prerendered public page and the client app's fallback.
  status=$(request -H 'accept: text/html' "$base/pricing")
  [ "$status" = 200 ] && body | grep -q '<title>[^<]*TuitBot</title>' && ok "the web app's public pages are served (/pricing)" \
    || not_ok "the web app's public pages are served (/pricing; got $status: $(body))"
  status=$(request -H 'accept: text/html' "$base/dashboard/settings")
  [ "$status" = 200 ] && body | grep -qi '<!doctype html' && ok "the dashboard app is served (/dashboard/*)" \
    || not_ok "the dashboard app is served (/dashboard/*; got $status: $(body))"

  email="admin-$RANDOM@example.com"
  password="smoke-test-$RANDOM-correct-horse"
  status=$(request -c "$work/cookies" -H 'content-type: application/json' \
    --data "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/auth/signup")
  [ "$status" = 201 ] && body | grep -q '"role":"admin"' && ok "signup answers 201 and the first account is the admin" \
    || not_ok "signup answers 201 and the first account is the admin (got $status: $(body))"

  status=$(request -b "$work/cookies" "$base/auth/me")
  [ "$status" = 200 ] && body | grep -q "\"$email\"" && ok "the session cookie identifies the new account" \
    || not_ok "the session cookie identifies the new account (got $status: $(body))"

  status=$(request -b "$work/cookies" "$base/api/settings")
  [ "$status" = 200 ] && body | grep -q '"values":{' && ok "the account's tenant runs on a worker thread and answers /api/settings" \
    || not_ok "the account's tenant runs on a worker thread and answers /api/settings (got $status: $(body))"

  status=$(request -H 'content-type: application/json' \
    --data "{\"email\":\"second-$RANDOM@example.com\",\"password\":\"$password\"}" "$base/auth/signup")
  [ "$status" = 403 ] && body | grep -q registration_closed && ok "a second signup is refused: registration closed" \
    || not_ok "a second signup is refused: registration closed (got $status: $(body))"
}

# The account made by check_new_instance logs in (after a restart: its data persisted).
check_login() {
  local status
  status=$(request -H 'content-type: application/json' --data "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/auth/login")
  [ "$status" = 200 ] && ok "$1" || not_ok "$1 (got $status: $(body))"
}
