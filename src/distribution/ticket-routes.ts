/**
 * POST /api/ws-ticket (Bearer JWT) → 201 `{ ticket, expiresAt, expiresInSeconds }`: a single-use
 * credential for `/ws/signals?ticket=`, so a browser never puts its long-lived JWT in a URL. Limited
 * per user (429 RATE_LIMITED beyond `perMinute`).
 */
import { Router, type RequestHandler } from 'express';
import { bearerToken, currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { wrap } from '../http/wrap.js';
import { describeRoutes } from '../http/openapi.js';
import type { TicketStore } from './tickets.js';

export function ticketRoutes(deps: { tokens: TokenService; tickets: TicketStore; limiter: RequestHandler }): Router {
  const r = Router();
  r.post('/api/ws-ticket', requireAuth(deps.tokens), deps.limiter, wrap(async (req, res) => {
    const user = currentUser(req);
    // requireAuth has verified the token; read its expiry so the socket still ends with it.
    const { exp } = deps.tokens.verify(bearerToken(req.headers.authorization)!);
    const { ticket, expiresAt } = await deps.tickets.issue({ id: user.id, role: user.role, exp });
    res.status(201).set('Cache-Control', 'no-store').json({ ticket, expiresAt: new Date(expiresAt).toISOString(), expiresInSeconds: Math.round((expiresAt - Date.now()) / 1000) });
  }));
  return r;
}

describeRoutes([
  { method: 'post', path: '/api/ws-ticket', tag: 'websocket', auth: 'user', summary: 'A single-use ticket (valid 30 s) for /ws/signals?ticket= (see docs/protocol.md)', responses: { 201: '{ ticket, expiresAt, expiresInSeconds }', 401: 'UNAUTHORIZED', 429: 'RATE_LIMITED' } },
]);
