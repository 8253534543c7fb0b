/**
 * The author's view of their own strategy (role api), the author only (others 403, unknown 404):
 *   GET /api/strategies/:id/authoring   the full webhook URL, TradingView alert messages ready to paste,
 *                                       and the author's counts (signals, subscribers, bots)
 * The webhook URL's origin is PUBLIC_BASE_URL (else SITE_URL); unset, it is the origin the request came to,
 * as express sees it: behind a proxy, X-Forwarded-Proto/-Host count only when TRUST_PROXY trusts the hop
 * (src/http/public-url.ts, also used by POST /api/strategies).
 * The secret is stored hashed, so the messages carry a placeholder the page fills in after a rotation.
 */
import type { PrismaClient } from '@prisma/client';
import { Router } from 'express';
import { z } from 'zod';
import { currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { describeRoutes } from '../http/openapi.js';
import { webhookUrl } from '../http/public-url.js';
import { uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { forbidden, notFound } from '../lib/errors.js';

/** Stands for the webhook secret in the alert messages. */
export const SECRET_PLACEHOLDER = '<your webhook secret>';

/**
 * TradingView alert messages our webhook accepts (src/signals/tradingview.ts):
 *  - strategy: a Pine strategy's alert; the position change picks OPEN/CLOSE and LONG/SHORT, {{close}} the price;
 *  - open / close: an indicator alert that always opens / closes a long at {{close}} on the chart's ticker.
 * Numbers go as strings ("{{close}}"): the webhook takes numeric strings, and the message stays valid JSON before TradingView fills it in.
 */
export function alertMessages(secret = SECRET_PLACEHOLDER): Record<'strategy' | 'open' | 'close', string> {
  const common = { secret, ticker: '{{ticker}}' };
  const msg = (o: Record<string, string>) => JSON.stringify({ ...common, ...o }, null, 2);
  return {
    strategy: msg({ market_position: '{{strategy.market_position}}', prev_market_position: '{{strategy.prev_market_position}}', price: '{{close}}', time: '{{timenow}}' }),
    open: msg({ action: 'OPEN', direction: 'LONG', price: '{{close}}', timestamp: '{{timenow}}' }),
    close: msg({ action: 'CLOSE', direction: 'LONG', price: '{{close}}', timestamp: '{{timenow}}' }),
  };
}

export function authoringRoutes(deps: { prisma: PrismaClient; tokens: TokenService; publicBaseUrl?: string }): Router {
  const r = Router();
  const { prisma } = deps;
  r.get('/api/strategies/:id/authoring', requireAuth(deps.tokens), wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const s = await prisma.strategy.findUnique({ where: { id }, select: { authorId: true } });
    if (!s) throw notFound('strategy');
    if (!s.authorId || s.authorId !== currentUser(req).id) throw forbidden('only the strategy author sees its webhook and counts');
    const [signals, last, subs, bots] = await Promise.all([
      prisma.signal.count({ where: { strategyId: id } }),
      prisma.signal.findFirst({ where: { strategyId: id }, orderBy: { seq: 'desc' }, select: { createdAt: true } }),
      prisma.subscription.groupBy({ by: ['status'], where: { strategyId: id }, _count: true }),
      prisma.tradingBot.groupBy({ by: ['enabled'], where: { strategyId: id }, _count: true }),
    ]);
    const subCount = (status: string) => subs.find((g) => g.status === status)?._count ?? 0;
    const hook = webhookUrl(deps.publicBaseUrl, req, id);
    res.set('Cache-Control', 'no-store').json({
      webhookUrl: hook.url,
      baseUrlSource: hook.source,
      alertMessages: alertMessages(),
      secretPlaceholder: SECRET_PLACEHOLDER,
      counts: {
        signals, lastSignalAt: last?.createdAt ?? null,
        subscribers: { active: subCount('ACTIVE'), paused: subCount('PAUSED'), cancelled: subCount('CANCELLED') },
        bots: { enabled: bots.find((g) => g.enabled)?._count ?? 0, disabled: bots.find((g) => !g.enabled)?._count ?? 0 },
      },
    });
  }));
  return r;
}

describeRoutes([{
  method: 'get', path: '/api/strategies/:id/authoring', tag: 'strategies', auth: 'author',
  summary: 'For the strategy\'s author: the full webhook URL, TradingView alert messages ready to paste, signal, subscriber and bot counts',
  description: 'The URL\'s origin is PUBLIC_BASE_URL (else SITE_URL), else the origin of this request (X-Forwarded-* only from a proxy TRUST_PROXY trusts). '
    + 'The messages hold a placeholder where the webhook secret goes (it is stored hashed and shown only when created or rotated).',
  responses: {
    200: { description: 'webhook URL, messages and counts', schema: z.object({ webhookUrl: z.string(), baseUrlSource: z.enum(['PUBLIC_BASE_URL', 'request']), alertMessages: z.object({ strategy: z.string(), open: z.string(), close: z.string() }), secretPlaceholder: z.string(), counts: z.record(z.string(), z.unknown()) }) },
    403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND',
  },
}]);
