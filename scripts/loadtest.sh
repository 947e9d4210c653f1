#!/usr/bin/env bash
# The load test: gunicorn and one Celery worker over PostgreSQL and Redis on loopback,
# a workshop of 1M leads, and locust playing 50 stakeholders following a vote, 20 reps
# triaging and 5 admins importing (scripts/load/locustfile.py). It takes about ten
# minutes the first time (generating the leads), so CI does not run it: `make loadtest`.
#
#   LEADS=1000000 DURATION=5m scripts/loadtest.sh
#
# The last lines are a table of p50/p95/p99 per page and the error rate; the exit
# status is non-zero when a target is missed (p95 < 150 ms for page views and
# verdicts, no errors).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
LEADS=${LEADS:-1000000}
DURATION=${DURATION:-5m}
PORT=${LOAD_PORT:-8077}
WEB_WORKERS=${WEB_WORKERS:-4}
WEB_THREADS=${WEB_THREADS:-1}
DB_NAME=${LOAD_DB:-lwload}
OUT=var/load
mkdir -p "$OUT"

export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB_NAME
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
# A queue of its own, so a worker of another checkout never takes these tasks.
export CELERY_TASK_DEFAULT_QUEUE=loadtest
# Production settings, except TLS, which loopback does not have.
export DEBUG=0 SECRET_KEY=load-test-only-secret-key-load-test-only-secret-key-0123456789
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
export DATABASE_CONN_MAX_AGE=60 LOG_LEVEL=WARNING
# The 5 admins import a file every few seconds on purpose: the per-account upload
# limit guards against abuse, not against this measured load.
export RATE_LIMIT_UPLOADS_PER_HOUR=100000

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" \
  | grep -q 1 || createdb -h 127.0.0.1 -U postgres "$DB_NAME"
"$BIN/python" manage.py migrate --noinput -v 0
"$BIN/python" manage.py collectstatic --noinput -v 0
"$BIN/python" manage.py load_prepare --leads "$LEADS" --out "$OUT" | tee "$OUT/prepare.log"
PROPOSAL=$(tail -n1 "$OUT/prepare.log" | "$BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["proposal"])')

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
"$BIN/gunicorn" leadworkshop.wsgi --workers "$WEB_WORKERS" --threads "$WEB_THREADS" --bind "127.0.0.1:$PORT" \
  --log-level warning --error-logfile "$OUT/gunicorn.log" &
pids+=($!)
"$BIN/celery" -A leadworkshop worker --concurrency=1 --pool=prefork -Q loadtest \
  --loglevel=WARNING --without-mingle --without-gossip --logfile="$OUT/worker.log" &
pids+=($!)
for _ in $(seq 60); do curl -fso /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break; sleep 0.5; done

LOAD_PROPOSAL=$PROPOSAL LOAD_CSV_DIR=$OUT "$BIN/locust" -f scripts/load/locustfile.py \
  --headless --users 75 --spawn-rate 2 --reset-stats --run-time "$DURATION" \
  --host "http://127.0.0.1:$PORT" --csv "$OUT/result" --only-summary --loglevel WARNING \
  2> "$OUT/locust.log" || true
"$BIN/python" scripts/load/report.py "$OUT/result_stats.csv" "$OUT/result_failures.csv"
