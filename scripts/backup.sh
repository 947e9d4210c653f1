#!/usr/bin/env bash
# A consistent backup of the PostgreSQL database named by DATABASE_URL, in pg_dump's
# custom format (compressed, restorable table by table):
#   scripts/backup.sh [FILE]      default: var/backups/leadworkshop-<UTC time>.dump
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL=postgres://user@host:5432/name}"
case "$DATABASE_URL" in postgres*) ;; *) echo "backup.sh backs up PostgreSQL only" >&2; exit 2 ;; esac
out=${1:-var/backups/leadworkshop-$(date -u +%Y%m%dT%H%M%SZ).dump}
mkdir -p "$(dirname "$out")"
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$out"
echo "$out"
