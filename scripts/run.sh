#!/usr/bin/env bash
# The embedded quick start: SQLite under var/, a Celery worker with a broker that
# needs no server (messages are files under var/celery), and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PORT:-8000}
export DEBUG=${DEBUG:-1}
mkdir -p var/celery/queue var/celery/processed
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s var/secret_key ] || "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
  SECRET_KEY=$(cat var/secret_key)
  export SECRET_KEY
fi

"$BIN/python" manage.py migrate --noinput -v 0
"$BIN/python" manage.py seed_demo --if-empty

"$BIN/celery" -A leadworkshop worker --beat --concurrency=2 --loglevel=INFO \
  --schedule=var/celerybeat-schedule --logfile=var/celery-worker.log &
WORKER_PID=$!
trap 'kill "$WORKER_PID" 2>/dev/null; wait "$WORKER_PID" 2>/dev/null' EXIT INT TERM
echo "Celery worker started (pid $WORKER_PID, log: var/celery-worker.log)."
echo
echo "Lead Workshop is at http://127.0.0.1:${PORT}/  (Ctrl+C stops it)"
echo
"$BIN/python" manage.py runserver "127.0.0.1:${PORT}" --noreload
