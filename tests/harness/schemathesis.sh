#!/usr/bin/env bash
# Property-based API tests with schemathesis against a running `droply serve`:
# every operation of /openapi.json, signed in as a fresh user, checking that no
# answer is a server error and every answer matches the document (status code,
# content type, body schema). Loopback only; bounded by --max-examples and
# --max-time.
#
#   tests/harness/schemathesis.sh            # the long run (random seed)
#   tests/harness/schemathesis.sh --ci       # the bounded run CI does (fixed seed)
#
# The server takes payments against a localstripe of its own (PaymentIntents,
# refunds; webhooks are checked for their signature), as production would
# against Stripe. Connect onboarding is left out: localstripe has no Connect,
# so it would answer its documented 502; tests/api/payments.rs tests it
# against the Connect fake.
#
# Needs: a built `droply` ($DROPLY_BIN, default $CARGO_TARGET_DIR/debug/droply),
# the sentence model ($DROPLY_MODEL_DIR), schemathesis ($ST, default `st`) and
# localstripe ($DROPLY_LOCALSTRIPE, default the venv `.ci/run` installs).
set -euo pipefail

MODE="${1:-long}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${DROPLY_BIN:-$TARGET/debug/droply}"
ST="${ST:-st}"
PORT="${DROPLY_HARNESS_PORT:-18431}"
STRIPE_PORT="${DROPLY_HARNESS_STRIPE_PORT:-18432}"
LOCALSTRIPE="${DROPLY_LOCALSTRIPE:-/var/cache/droply/localstripe-venv/bin/localstripe}"
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"

if [ "$MODE" = "--ci" ]; then
  BOUNDS=(--max-examples 15 --max-time 180 --seed 20261130)
else
  BOUNDS=(--max-examples 200 --max-time 1800)
fi

# The rate limits have tests of their own; here they would only answer 429.
export DROPLY_AUTH_RATE=1000000 DROPLY_AUTH_BURST=1000000 DROPLY_WRITE_RATE=1000000 \
  DROPLY_WRITE_BURST=1000000 DROPLY_SEARCH_RATE=1000000 DROPLY_SEARCH_BURST=1000000 \
  DROPLY_ACCOUNT_WRITE_RATE=1000000 DROPLY_ACCOUNT_WRITE_BURST=1000000 \
  DROPLY_JOIN_RATE=1000000 DROPLY_JOIN_BURST=1000000
# Something already answering on either port would be tested instead of
# this build: refuse to start.
for port in "$PORT" "$STRIPE_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is taken; set DROPLY_HARNESS_PORT / DROPLY_HARNESS_STRIPE_PORT" >&2
    rm -rf "$DATA"
    exit 1
  fi
done
"$LOCALSTRIPE" --port "$STRIPE_PORT" --from-scratch >"$DATA/localstripe.log" 2>&1 &
STRIPE=$!
export DROPLY_STRIPE_SECRET_KEY=sk_test_harness DROPLY_STRIPE_WEBHOOK_SECRET=whsec_harness \
  DROPLY_STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT/"
# Daily and Google on: their routes answer as configured (a dead loopback
# port stands for the providers; no fuzzed request reaches them), instead
# of 503 "not configured", which the server-error check would flag.
DEAD="http://127.0.0.1:9"
export DROPLY_DAILY_API_KEY=daily_harness DROPLY_DAILY_API_BASE="$DEAD" \
  DROPLY_DAILY_WEBHOOK_SECRET="$(printf 'harness-daily-secret' | base64)" \
  DROPLY_GOOGLE_CLIENT_ID=harness.apps.googleusercontent.com DROPLY_GOOGLE_CLIENT_SECRET=harness \
  DROPLY_SECRET_KEY="$(printf '%064d' 7)" DROPLY_GOOGLE_AUTH_URL="$DEAD/auth" \
  DROPLY_GOOGLE_TOKEN_URL="$DEAD/token" DROPLY_GOOGLE_REVOKE_URL="$DEAD/revoke" \
  DROPLY_GOOGLE_API_BASE="$DEAD"
"$BIN" serve --data-dir "$DATA" --addr "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" "$STRIPE" 2>/dev/null || true
  wait "$SERVER" "$STRIPE" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fs -u sk_test_harness: "http://127.0.0.1:$STRIPE_PORT/v1/payment_intents" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
if ! curl -fs -u sk_test_harness: "http://127.0.0.1:$STRIPE_PORT/v1/payment_intents" >/dev/null 2>&1; then
  echo "localstripe did not start on port $STRIPE_PORT:" >&2
  cat "$DATA/localstripe.log" >&2
  exit 1
fi

for _ in $(seq 1 300); do
  if curl -fsS "$BASE/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$DATA/serve.log" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "$BASE/ready" >/dev/null

register() {
  curl -fsS -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"password-$1\",\"full_name\":\"$1 Harness\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
TOKEN="$(register harness)"
register other >/dev/null

# The sign-outs and closing the account (DELETE /v1/users/me, by its
# operation id: GET and PATCH on that path stay in) are left out: they would
# end the session, or the user, the run signs in with; onboarding: see above.
"$ST" run "$BASE/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --exclude-path /v1/auth/logout \
  --exclude-path /v1/auth/logout_all \
  --exclude-operation-id close_own_account \
  --exclude-path /v1/payouts/onboarding \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --workers 2 "${BOUNDS[@]}"
