/**
 * Secrets at rest. Envelope format `v1:<keyId>:<iv b64>:<tag b64>:<ciphertext b64>`, AES-256-GCM.
 * keyId is the first 8 hex chars of sha256(key), so a rotated key can still read old envelopes
 * (pass previous keys to the Keyring) and scripts/rotate-keys.ts re-encrypts everything.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export class Keyring {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: { id: string; key: Buffer };

  /** `current` and `previous` are 32-byte keys. */
  constructor(current: Buffer, previous: Buffer[] = []) {
    if (current.length !== 32) throw new AppError('CONFIG_INVALID', 'encryption key must be 32 bytes');
    this.current = { id: keyId(current), key: current };
    for (const k of [current, ...previous]) this.keys.set(keyId(k), k);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', this.current.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
  }

  decrypt(envelope: string): string {
    const [version, id, iv, tag, ct] = envelope.split(':');
    const key = this.keys.get(id ?? '');
    if (version !== 'v1' || !key || !iv || !tag || ct === undefined) {
      throw new AppError('KEY_DECRYPT_FAILED', 'cannot decrypt secret: unknown envelope or key');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }

  /** True when the envelope was written with an older key and should be re-encrypted. */
  isStale(envelope: string): boolean {
    return envelope.split(':')[1] !== this.current.id;
  }
}

/** "abcd…wxyz": enough to recognise a key, never enough to use it. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '…' + value.slice(-2);
  return `${value.slice(0, 4)}…${value.slice(-4)}`;
}

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Constant-time comparison of two strings (by their sha256, so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
