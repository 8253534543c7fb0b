#!/usr/bin/env bash
# Backup: PostgreSQL (pg_dump custom format) and DATA_DIR/signals into backups/<UTC timestamp>/.
# Usage: DATABASE_URL=… [DATA_DIR=./data] [BACKUP_DIR=./backups] scripts/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL}"
data=${DATA_DIR:-./data}
dest=${BACKUP_DIR:-./backups}/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest"
pg_dump --format=custom --no-owner --file="$dest/db.dump" "$DATABASE_URL"
tar -C "$data" -czf "$dest/signals.tar.gz" signals
( cd "$dest" && sha256sum db.dump signals.tar.gz > SHA256SUMS )
echo "$dest"
