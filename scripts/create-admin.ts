/**
 * `npm run create-admin -- EMAIL PASSWORD`: creates an ADMIN account, or promotes an existing one and
 * resets its password. Uses the same config and database as the server (embedded PGlite when
 * DATABASE_URL is unset — stop the server first in that case: PGlite has one owner).
 */
import { loadConfig, withDevSecrets } from '../src/config/index.js';
import { openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { hashPassword } from '../src/lib/password.js';

const [email, password] = process.argv.slice(2);
if (!email || !password || password.length < 8) {
  process.stderr.write('usage: npm run create-admin -- EMAIL PASSWORD (password at least 8 characters)\n');
  process.exit(2);
}
const config = loadConfig(withDevSecrets(process.env).env);
const log = createLogger('warn');
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, migrate: true, log });
try {
  const passwordHash = await hashPassword(password);
  const user = await db.prisma.user.upsert({
    where: { email: email.toLowerCase() },
    create: { email: email.toLowerCase(), passwordHash, role: 'ADMIN' },
    update: { passwordHash, role: 'ADMIN' },
  });
  process.stdout.write(`admin ready: ${user.email} (${user.id})\n`);
} finally {
  await db.stop();
}
