#!/usr/bin/env bash
# Restore a backup made by backup.sh: the database (dropped and recreated objects) and DATA_DIR/signals.
# Stop the apps first. Usage: DATABASE_URL=… [DATA_DIR=./data] scripts/restore.sh backups/<timestamp>
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL}"
src=${1:?usage: scripts/restore.sh BACKUP_DIR}
data=${DATA_DIR:-./data}
( cd "$src" && sha256sum --check --quiet SHA256SUMS )
pg_restore --clean --if-exists --no-owner --single-transaction --dbname="$DATABASE_URL" "$src/db.dump"
rm -rf "$data/signals.restoring" && mkdir -p "$data/signals.restoring"
tar -C "$data/signals.restoring" -xzf "$src/signals.tar.gz"
rm -rf "$data/signals.old" && { [ -d "$data/signals" ] && mv "$data/signals" "$data/signals.old" || true; }
mv "$data/signals.restoring/signals" "$data/signals" && rmdir "$data/signals.restoring"
echo "restored from $src (previous store kept in $data/signals.old); run npm run check-consistency"
