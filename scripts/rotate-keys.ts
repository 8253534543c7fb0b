/**
 * `npm run rotate-keys`: re-encrypts every stored exchange API key/secret with the current
 * KEY_ENCRYPTION_KEY. Rotation: set the new key as KEY_ENCRYPTION_KEY and the old one in
 * KEY_ENCRYPTION_KEYS_PREVIOUS (comma-separated), restart (old envelopes stay readable), run this,
 * then drop the old key. Idempotent; each row is updated only if it still holds the envelope it read.
 * Prints counts only, never key material.
 */
import { loadConfig, withDevSecrets } from '../src/config/index.js';
import { openDatabase } from '../src/db/index.js';
import { Keyring } from '../src/lib/crypto.js';
import { createLogger } from '../src/lib/logger.js';

const config = loadConfig(withDevSecrets(process.env).env);
const keyring = new Keyring(config.keyEncryptionKey, config.previousEncryptionKeys);
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, migrate: true, log: createLogger('warn') });
let rotated = 0;
let failed = 0;
try {
  let after: string | undefined;
  for (;;) {
    const batch = await db.prisma.subscription.findMany({
      where: { OR: [{ apiKeyEnc: { not: null } }, { apiSecretEnc: { not: null } }], ...(after ? { id: { gt: after } } : {}) },
      select: { id: true, apiKeyEnc: true, apiSecretEnc: true }, orderBy: { id: 'asc' }, take: 500,
    });
    if (!batch.length) break;
    after = batch.at(-1)!.id;
    for (const s of batch) {
      const stale = [s.apiKeyEnc, s.apiSecretEnc].some((e) => e && keyring.isStale(e));
      if (!stale) continue;
      try {
        const reenc = (e: string | null) => (e ? keyring.encrypt(keyring.decrypt(e)) : e);
        const r = await db.prisma.subscription.updateMany({
          where: { id: s.id, apiKeyEnc: s.apiKeyEnc, apiSecretEnc: s.apiSecretEnc },
          data: { apiKeyEnc: reenc(s.apiKeyEnc), apiSecretEnc: reenc(s.apiSecretEnc) },
        });
        rotated += r.count;
      } catch {
        failed += 1;
        process.stderr.write(`subscription ${s.id}: cannot decrypt with the configured keys\n`);
      }
    }
  }
  process.stdout.write(`re-encrypted ${rotated} subscriptions; ${failed} could not be decrypted\n`);
} finally {
  await db.stop();
}
process.exit(failed ? 1 : 0);
