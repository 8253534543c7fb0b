/**
 * The marketplace site: static HTML pages with one small script each (public/site), talking to the REST
 * API with the token kept in localStorage and to /ws/signals for live updates. No build step, no inline
 * scripts (the CSP allows scripts from our origin only).
 *   /                  marketplace list          /strategies/:id   strategy page (track record, signals)
 *   /login, /register  accounts                  /subscriptions    my subscriptions and keys
 *   /executions        my executions             /admin            executions of everyone (ADMIN, checked by the API)
 *   /assets/*          scripts and styles        /favicon.ico      the site icon (SVG)
 * Unknown paths get the HTML 404 page from notFoundHandler (src/http/errors.ts) when a browser asks.
 * Pages themselves are public HTML; every piece of data on them comes from role-checked API routes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** public/site at the repository root. */
export const SITE_DIR = fileURLToPath(new URL('../../public/site/', import.meta.url));

const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/strategies/:id': 'strategy.html',
  '/login': 'login.html',
  '/register': 'login.html',
  '/subscriptions': 'subscriptions.html',
  '/executions': 'executions.html',
  '/admin': 'admin.html',
};

export function pageRoutes(): Router {
  const r = Router();
  r.use('/assets', express.static(SITE_DIR, { index: false, maxAge: '5m', extensions: false }));
  // Browsers ask for /favicon.ico on every page whatever the <link> says; an SVG under that name keeps it from being a 404.
  r.get('/favicon.ico', (_req, res) => { res.type('image/svg+xml').sendFile('favicon.svg', { root: SITE_DIR, maxAge: '1d' }); });
  for (const [route, file] of Object.entries(PAGES)) {
    r.get(route, (_req, res) => { res.sendFile(file, { root: SITE_DIR, maxAge: 0, headers: { 'Cache-Control': 'no-cache' } }); });
  }
  return r;
}
