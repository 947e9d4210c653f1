#!/usr/bin/env bash
# The whole suite. Browser tests run in their own pytest process because only they
# need DJANGO_ALLOW_ASYNC_UNSAFE (Playwright's sync API runs an event loop).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/python" -m pytest tests --ignore=tests/browser "$@"
DJANGO_ALLOW_ASYNC_UNSAFE=1 "$BIN/python" -m pytest tests/browser "$@"
