/**
 * SubscriptionRepository: every write of a Subscription row, the one place its API keys are sealed and
 * opened, and the reads of the matching rule's Prisma form (matching.ts).
 *  - One live (ACTIVE or PAUSED) subscription per user and strategy: two would place two orders per
 *    signal. The database enforces it (partial unique index); its violation (Prisma P2002) becomes
 *    409 ALREADY_SUBSCRIBED here, and a row gone under a write (P2025) 404 SUBSCRIPTION_NOT_FOUND.
 *  - API keys are write-only: stored as AES-256-GCM envelopes (src/lib/crypto.ts) and shown only as
 *    `apiKeyMasked`. `openKeys` is the only decryption of them: the executor's runner (to sign orders)
 *    and test-keys (to ask for the balance) call it, and the plain keys never leave those calls.
 *  - Every change is published on the bus (`subscription.changed`) so live consumers update at once.
 */
import type { Prisma, PrismaClient, Subscription } from '@prisma/client';
import { TOPICS, type Bus } from '../bus/index.js';
import { maskSecret, type Keyring } from '../lib/crypto.js';
import { AppError, isUniqueViolation, notFound } from '../lib/errors.js';
import { FOLLOWING, type FollowRow } from './matching.js';

/** The sealed keys as stored (null when none). */
export interface KeyEnvelope { apiKeyEnc: string | null; apiSecretEnc: string | null }
/** Opened keys: held only for the call that signs with them. */
export interface OpenKeys { apiKey: string; secret: string }

/** What the executor needs of the subscriptions module. */
export interface SubscriptionKeys {
  /** Decrypts the envelope; throws AppError KEY_DECRYPT_FAILED when this process's keys cannot. */
  openKeys(envelope: KeyEnvelope): OpenKeys;
  /** Stops further attempts for a subscription whose key the exchange refused. */
  markKeysInvalid(subscriptionId: string): Promise<void>;
}

/** What the WebSocket routing table needs: the FOLLOWING subscriptions of some users. */
export interface SubscriptionFollows {
  followedBy(userIds: readonly string[]): Promise<FollowRow[]>;
}

interface Terms {
  allPairs?: boolean; pairs?: string[]; sizing?: Prisma.InputJsonValue; risk?: Prisma.InputJsonValue;
  maxSlippagePercent?: number; apiKey?: string; apiSecret?: string;
  /** Futures only: leverage (1-125) and margin mode. */
  leverage?: number; marginMode?: 'isolated' | 'cross';
}
export interface NewSubscription extends Terms { strategyId: string; exchange: string; sizing: Prisma.InputJsonValue; market?: 'spot' | 'futures' }
export interface SubscriptionChange extends Terms { status?: 'ACTIVE' | 'PAUSED' }

const ALREADY_SUBSCRIBED = 'you already have a live subscription to this strategy: change, pause or cancel it under My subscriptions';
const isRecordMissing = (err: unknown) => (err as { code?: string })?.code === 'P2025';

export class SubscriptionRepository implements SubscriptionKeys, SubscriptionFollows {
  constructor(private readonly d: { prisma: PrismaClient; keyring: Keyring; bus: Bus }) {}

  list(userId: string): Promise<Subscription[]> {
    return this.d.prisma.subscription.findMany({ where: { userId }, orderBy: { createdAt: 'desc' } });
  }

  /** The user's subscription; another user's (or none) is 404 SUBSCRIPTION_NOT_FOUND, never data. */
  async owned(userId: string, id: string): Promise<Subscription> {
    const s = await this.d.prisma.subscription.findUnique({ where: { id } });
    if (!s || s.userId !== userId) throw notFound('subscription');
    return s;
  }

  async create(userId: string, b: NewSubscription): Promise<Subscription> {
    if (!(await this.d.prisma.strategy.count({ where: { id: b.strategyId } }))) throw notFound('strategy');
    const s = await this.write(this.d.prisma.subscription.create({
      data: {
        userId, strategyId: b.strategyId, exchange: b.exchange, allPairs: b.allPairs, subscribedPairs: b.pairs, sizing: b.sizing, risk: b.risk,
        maxSlippagePercent: b.maxSlippagePercent, market: b.market, leverage: b.leverage, marginMode: b.marginMode, ...this.sealKeys(b.apiKey, b.apiSecret),
      },
    }));
    await this.changed(s);
    return s;
  }

  /** Changes a live subscription (see `changeable`). */
  async update(id: string, b: SubscriptionChange): Promise<Subscription> {
    const s = await this.write(this.d.prisma.subscription.update({
      where: { id },
      data: { status: b.status, allPairs: b.allPairs, subscribedPairs: b.pairs, sizing: b.sizing, risk: b.risk, maxSlippagePercent: b.maxSlippagePercent,
        leverage: b.leverage, marginMode: b.marginMode, ...this.sealKeys(b.apiKey, b.apiSecret) },
    }));
    await this.changed(s);
    return s;
  }

  /**
   * Cancelled, not deleted: its execution history stays, and its keys stay so that the executor can
   * still close a position the subscription holds (leaving a strategy never strands a position).
   */
  async cancel(id: string): Promise<Subscription> {
    const s = await this.write(this.d.prisma.subscription.update({ where: { id }, data: { status: 'CANCELLED' } }));
    await this.changed(s);
    return s;
  }

  /** A cancelled subscription is history: 409 SUBSCRIPTION_CANCELLED. */
  changeable(s: Subscription): void {
    if (s.status === 'CANCELLED') throw new AppError('SUBSCRIPTION_CANCELLED', 'a cancelled subscription cannot be changed; subscribe again', 409);
  }

  openKeys(envelope: KeyEnvelope): OpenKeys {
    try {
      return { apiKey: this.d.keyring.decrypt(envelope.apiKeyEnc ?? ''), secret: this.d.keyring.decrypt(envelope.apiSecretEnc ?? '') };
    } catch (err) {
      throw new AppError('KEY_DECRYPT_FAILED', 'the stored API keys cannot be decrypted with this server\'s keys; store them again', 409, { cause: err });
    }
  }

  /** Records what the exchange said of the keys (a row deleted meanwhile is no error). */
  async setKeysInvalid(subscriptionId: string, invalid: boolean): Promise<void> {
    await this.d.prisma.subscription.updateMany({ where: { id: subscriptionId }, data: { keysInvalid: invalid } });
  }

  markKeysInvalid(subscriptionId: string): Promise<void> {
    return this.setKeysInvalid(subscriptionId, true);
  }

  followedBy(userIds: readonly string[]): Promise<FollowRow[]> {
    return this.d.prisma.subscription.findMany({
      where: { userId: { in: [...userIds] }, ...FOLLOWING },
      select: { userId: true, strategyId: true, allPairs: true, subscribedPairs: true },
    });
  }

  /** Fresh keys are sealed, masked and presumed valid until the exchange says otherwise. */
  private sealKeys(apiKey?: string, apiSecret?: string) {
    if (!apiKey || !apiSecret) return {};
    const { keyring } = this.d;
    return { apiKeyEnc: keyring.encrypt(apiKey), apiSecretEnc: keyring.encrypt(apiSecret), apiKeyMasked: maskSecret(apiKey), hasKeys: true, keysInvalid: false };
  }

  /** Prisma's P2002 (the one-live-subscription index) → 409 ALREADY_SUBSCRIBED; P2025 (row gone) → 404. */
  private write<T>(write: Promise<T>): Promise<T> {
    return write.catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new AppError('ALREADY_SUBSCRIBED', ALREADY_SUBSCRIBED, 409);
      if (isRecordMissing(err)) throw notFound('subscription');
      throw err;
    });
  }

  private changed(s: Subscription): Promise<void> {
    return this.d.bus.publish(TOPICS.subscriptionChanged, { subscriptionId: s.id, userId: s.userId, strategyId: s.strategyId, status: s.status }).catch(() => {});
  }
}
