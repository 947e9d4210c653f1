#!/usr/bin/env bash
# What the import is measured against (README, "Speed"): a bare `psql \copy` of the
# benchmark CSV into a plain text table, and the floor of any import into the lead
# table: `\copy` of already converted leads into an empty copy of it with all its
# indexes, and into a copy with only the indexes any import must keep up (primary key,
# the external id that makes re-imports idempotent, the trigram index of the search).
# If that alone is over 3x the bare \copy, the target cannot be met.
# Run after `manage.py bench_import --keep` (it reads that workshop's leads).
#
#   DB=lwbench CSV=/tmp/bench/leads-1m.csv scripts/import_floor.sh
set -euo pipefail
DB=${DB:?name of the PostgreSQL database bench_import --keep used}
CSV=${CSV:?the benchmark CSV}
P="psql -h 127.0.0.1 -U postgres -d $DB -v ON_ERROR_STOP=1 -q"
DUMP=$(mktemp /tmp/lead-floor.XXXXXX)
trap 'rm -f "$DUMP"; $P -c "DROP TABLE IF EXISTS plain_copy, lead_floor, lead_least" 2>/dev/null' EXIT

seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
# floor TABLE DDL DESCRIPTION: create TABLE by DDL, then time a \copy of the dump into it.
floor() {
  $P -c "DROP TABLE IF EXISTS $1; $2"
  echo "\\copy of the converted leads into an empty lead table with $3: $(seconds $P -c "\\copy $1 FROM '$DUMP'") s"
}

cols=$(head -1 "$CSV" | python3 -c \
  'import csv,sys; print(", ".join(f"c{i} text" for i in range(len(next(csv.reader(sys.stdin))))))')
$P -c "DROP TABLE IF EXISTS plain_copy; CREATE TABLE plain_copy ($cols)"
echo "plain \\copy of the CSV: $(seconds $P -c "\\copy plain_copy FROM '$CSV' WITH (FORMAT csv, HEADER true)") s"

workshop=$($P -tAc "SELECT id FROM definitions_workshop WHERE slug LIKE 'bench-%' ORDER BY id DESC LIMIT 1")
$P -c "\\copy (SELECT * FROM feedback_lead WHERE workshop_id = $workshop) TO '$DUMP'"
indexes=$($P -tAc "SELECT count(*) FROM pg_indexes WHERE tablename = 'feedback_lead'")
floor lead_floor \
  "CREATE TABLE lead_floor (LIKE feedback_lead INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS)" \
  "its $indexes indexes"
floor lead_least \
  "CREATE TABLE lead_least (LIKE feedback_lead INCLUDING DEFAULTS);
   ALTER TABLE lead_least ADD PRIMARY KEY (id);
   CREATE UNIQUE INDEX ON lead_least (workshop_id, external_id);
   CREATE INDEX ON lead_least USING gin (search_text gin_trgm_ops)" \
  "only the 3 indexes every import needs"
