#!/usr/bin/env bash
# Production set-up on Debian: install PostgreSQL, Redis and Chromium when missing, start them, create the
# database named in DATABASE_URL, install the project and apply migrations.
# Usage: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/signal_marketplace scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL}"
export DEBIAN_FRONTEND=noninteractive PUPPETEER_SKIP_DOWNLOAD=1
need=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"; fi
pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
redis-cli ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379
db=$(node -e 'console.log(new URL(process.env.DATABASE_URL).pathname.slice(1))')
admin=$(node -e 'const u=new URL(process.env.DATABASE_URL);u.pathname="/postgres";console.log(u.toString())')
psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 || psql "$admin" -c "CREATE DATABASE \"$db\""
npm ci --no-audit --no-fund
npm run -s prisma:generate
CHECKPOINT_DISABLE=1 node_modules/.bin/prisma migrate deploy
echo "set up: database $db migrated; start with: pm2 start ecosystem.config.js --env production"
