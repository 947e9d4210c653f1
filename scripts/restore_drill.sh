#!/usr/bin/env bash
# The restore drill: back up DATABASE_URL, restore the dump into a fresh database next to
# it, and compare the row counts of every table. Exit 0 only if they all match.
#   scripts/restore_drill.sh          (the scratch database is dropped afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL=postgres://user@host:5432/name}"
base=${DATABASE_URL%/*}
scratch="lw_restore_drill_$$"
dump=$(mktemp -d)/drill.dump
cleanup() { dropdb --if-exists --dbname="$base/postgres" "$scratch" 2>/dev/null || psql "$base/postgres" -qc "DROP DATABASE IF EXISTS $scratch" >/dev/null; rm -rf "$(dirname "$dump")"; }
trap cleanup EXIT

scripts/backup.sh "$dump" >/dev/null
psql "$base/postgres" -qc "CREATE DATABASE $scratch" >/dev/null
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$base/$scratch" "$dump"

counts() {
  psql "$1" -AtqF ' ' -c "
    SELECT table_name, (xpath('/row/n/text()',
      query_to_xml(format('SELECT count(*) AS n FROM %I', table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
}
if diff <(counts "$DATABASE_URL") <(counts "$base/$scratch") >/dev/null; then
  echo "restore drill: $(counts "$base/$scratch" | wc -l) tables, every row count matches"
else
  echo "restore drill FAILED: row counts differ" >&2
  diff <(counts "$DATABASE_URL") <(counts "$base/$scratch") >&2 || true
  exit 1
fi
