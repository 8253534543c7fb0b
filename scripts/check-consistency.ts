/**
 * `npm run check-consistency`: compares the JSON store under DATA_DIR/signals with PostgreSQL and prints
 * every difference. Exit 0 when they agree, 1 when they differ. Run it while the store writer is idle
 * or stopped (a signal accepted mid-check shows up as a lastSeq difference).
 */
import { loadConfig, withDevSecrets } from '../src/config/index.js';
import { openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { SignalReader, checkConsistency } from '../src/signals/index.js';

const config = loadConfig(withDevSecrets(process.env).env);
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, migrate: false, log: createLogger('warn') });
try {
  const report = await checkConsistency(config.dataDir, new SignalReader(db.prisma));
  for (const d of report.differences) process.stdout.write(`DIFF ${d}\n`);
  process.stdout.write(`${report.ok ? 'consistent' : `${report.differences.length} differences`}: ${JSON.stringify(report.checked)}\n`);
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await db.stop();
}
