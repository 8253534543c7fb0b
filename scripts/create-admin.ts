/**
 * `npm run create-admin -- EMAIL PASSWORD`: creates an ADMIN account, or promotes an existing one and
 * resets its password. Uses the same config and database as the server. Embedded (DATABASE_URL unset):
 * while a server owns DATA_DIR the write goes through that server's private socket; with none running
 * this opens the database itself (and a server started meanwhile refuses); a DATA_DIR still being
 * opened by another process makes this refuse with one line, exit 1: never a write that is silently lost.
 */
import { loadConfig, withDevSecrets } from '../src/config/index.js';
import { DataDirInUseError, openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { hashPassword } from '../src/lib/password.js';

const [email, password] = process.argv.slice(2);
if (!email || !password || password.length < 8) {
  process.stderr.write('usage: npm run create-admin -- EMAIL PASSWORD (password at least 8 characters)\n');
  process.exit(2);
}
const config = loadConfig(withDevSecrets(process.env).env);
const log = createLogger('warn');
let db;
try {
  db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, migrate: true, log, attach: true });
} catch (err) {
  if (!(err instanceof DataDirInUseError)) throw err;
  process.stderr.write(`create-admin: nothing written: ${err.message}\n`);
  process.exit(1);
}
try {
  const passwordHash = await hashPassword(password);
  const user = await db.prisma.user.upsert({
    where: { email: email.toLowerCase() },
    create: { email: email.toLowerCase(), passwordHash, role: 'ADMIN' },
    update: { passwordHash, role: 'ADMIN' },
  });
  const via = db.viaServerPid ? ` (written through the running server, pid ${db.viaServerPid})` : '';
  process.stdout.write(`admin ready: ${user.email} (${user.id})${via}\n`);
} finally {
  await db.stop();
}
