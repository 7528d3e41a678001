#!/usr/bin/env bash
# The browser tests: pytest + Playwright for Python, driving Debian's
# Chromium (Playwright's own browser downloads are never used), against a
# `droply serve --demo` each run starts on loopback.
#
#   tests/browser/run.sh            # every browser test
#   tests/browser/run.sh -k search  # some of them
#
# Needs: a built `droply` ($DROPLY_BIN, default $CARGO_TARGET_DIR/debug/droply),
# the sentence model ($DROPLY_MODEL_DIR), /usr/bin/chromium (apt-get install
# chromium), and a venv with playwright and pytest ($DROPLY_BROWSER_VENV,
# created here when missing). Screenshots land in $DROPLY_SHOTS
# (default $CARGO_TARGET_DIR/browser-shots).
set -euo pipefail
cd "$(dirname "$0")"
VENV="${DROPLY_BROWSER_VENV:-/var/cache/droply/browser-venv}"
if ! "$VENV/bin/python" -c "import playwright, pytest" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "playwright==1.65.2" "pytest==9.2.0"
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
