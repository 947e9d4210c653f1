#!/usr/bin/env bash
# The whole suite. Browser tests run in their own pytest process because only they
# need DJANGO_ALLOW_ASYNC_UNSAFE (Playwright's sync API runs an event loop).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/python" -m pytest tests --ignore=tests/browser "$@"
# The SQL compiler must agree with the reference evaluator on both databases: when the
# suite above ran on PostgreSQL, run the equivalence test again on SQLite.
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  env -u DATABASE_URL "$BIN/python" -m pytest tests/feedback/backtests/test_backtest_equivalence.py "$@"
fi
DJANGO_ALLOW_ASYNC_UNSAFE=1 "$BIN/python" -m pytest tests/browser "$@"
