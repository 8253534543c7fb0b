/**
 * The API document (GET /api/openapi.json) against the running app: every REST route the express app
 * has mounted (under /api, plus /health and /metrics) is in it and nothing in it is missing from the
 * app; it is a structurally valid OpenAPI 3.1 document; its request schemas are the ones the routes validate with; the reference page renders it
 * in Chromium.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { App } from '../src/app.js';
import { signalSchema } from '../src/signals/index.js';
import { client, registerUser, startTestApp } from './support/app.js';
import { launchChromium } from './support/site-browser.js';

interface Layer { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }

/** Every `METHOD /path` routed by an express app (routers mounted at the root, as app.ts mounts them). */
function mountedRoutes(server: http.Server): string[] {
  const app = server.listeners('request')[0] as unknown as { router: { stack: Layer[] } };
  const out = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of ([] as string[]).concat(layer.route.path)) {
          for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.add(`${m.toUpperCase()} ${p}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk(app.router.stack);
  return [...out];
}

const isApiRoute = (key: string) => /^[A-Z]+ \/(api\/|health|metrics)/.test(key);
const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('OpenAPI document', function () {
  this.timeout(60_000);
  let app: App;
  let doc: any;

  before(async () => {
    app = await startTestApp({ ROLES: 'api,store' });
    const r = await client(app).get('/api/openapi.json');
    assert.equal(r.status, 200, 'the document is public');
    doc = r.body;
  });
  after(async () => { await app?.stop(); });

  it('documents every REST route the app serves (a route added without a description fails here)', () => {
    const mounted = mountedRoutes(app.server!).filter(isApiRoute);
    assert.ok(mounted.length >= 30, `the router walk found ${mounted.length} routes: it is not seeing the app`);
    const missing = mounted.filter((k) => {
      const [method, p] = k.split(' ') as [string, string];
      return !doc.paths?.[toOpenApiPath(p)]?.[method.toLowerCase()];
    });
    assert.deepEqual(missing, [], `routes served but not in /api/openapi.json: ${missing.join(', ')} — add them with describeRoutes()`);
  });

  it('documents no route the app does not serve (a removed or renamed route leaves no stale entry)', () => {
    const mounted = new Set(mountedRoutes(app.server!).map((k) => { const [m, p] = k.split(' ') as [string, string]; return `${m} ${toOpenApiPath(p)}`; }));
    const stale: string[] = [];
    for (const [p, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const m of Object.keys(ops)) if (!mounted.has(`${m.toUpperCase()} ${p}`)) stale.push(`${m.toUpperCase()} ${p}`);
    }
    assert.deepEqual(stale, []);
  });

  it('is a structurally valid OpenAPI 3.1 document', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    const schemes = Object.keys(doc.components?.securitySchemes ?? {});
    const ids = new Set<string>();
    for (const [p, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      assert.ok(p.startsWith('/'), `path ${p} starts with /`);
      assert.ok(!p.includes(':'), `path ${p} uses {param}, not :param`);
      const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [m, op] of Object.entries<any>(ops)) {
        assert.ok(METHODS.includes(m), `${p}: ${m} is an HTTP method`);
        assert.ok(op.operationId && !ids.has(op.operationId), `${m} ${p}: a unique operationId`);
        ids.add(op.operationId);
        assert.ok(op.summary, `${m} ${p}: a summary`);
        const responses = Object.entries<any>(op.responses ?? {});
        assert.ok(responses.length > 0, `${m} ${p}: at least one response`);
        for (const [status, r] of responses) {
          assert.match(status, /^[1-5]\d\d$/, `${m} ${p}: response key ${status}`);
          assert.equal(typeof r.description, 'string', `${m} ${p} ${status}: a description`);
        }
        const pathParams = (op.parameters ?? []).filter((x: any) => x.in === 'path');
        assert.deepEqual(pathParams.map((x: any) => x.name).sort(), [...templated].sort(), `${m} ${p}: every {param} declared`);
        for (const x of op.parameters ?? []) {
          assert.ok(['path', 'query', 'header', 'cookie'].includes(x.in), `${m} ${p}: parameter ${x.name} in`);
          if (x.in === 'path') assert.equal(x.required, true);
          assert.ok(x.schema && typeof x.schema === 'object', `${m} ${p}: parameter ${x.name} has a schema`);
        }
        for (const req of op.security ?? []) for (const name of Object.keys(req)) assert.ok(schemes.includes(name), `${m} ${p}: security scheme ${name} is defined`);
        if (op.requestBody) assert.ok(op.requestBody.content?.['application/json']?.schema, `${m} ${p}: a JSON body schema`);
      }
    }
    assert.ok(!JSON.stringify(doc).includes('"$ref"'), 'no $ref left to resolve');
  });

  it('describes request bodies with the schemas the routes validate with (the documented required fields are required)', async () => {
    const reg = doc.paths['/api/auth/register'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...reg.required].sort(), ['email', 'password']);
    assert.deepEqual(reg.properties.role.enum, ['USER', 'AUTHOR']);
    const r = await client(app).post('/api/auth/register', { email: 'nobody@test.local' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.field, 'password', 'the route refuses what the document calls required');
    const sub = doc.paths['/api/subscriptions'].post.requestBody.content['application/json'].schema;
    assert.ok(sub.properties.maxSlippagePercent && sub.properties.sizing, 'the subscription body documents sizing and the slippage bound');
    const signal = doc.paths['/api/signals'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...signal.required].sort(), ['action', 'pair', 'price', 'strategyId']);
    const q = doc.paths['/api/strategies/{id}/signals'].get.parameters.map((x: any) => x.name);
    assert.deepEqual(q, ['id', 'afterSeq', 'limit']);
  });

  it('documents the signal a client gets with exactly the fields the API answers', async () => {
    const author = await registerUser(app, 'AUTHOR');
    const strategy = await client(app).post('/api/strategies', { name: 'openapi signal', pairs: ['BTC/USDT'] }, author.token);
    const posted = await client(app).post('/api/signals', { strategyId: strategy.body.id, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 64000 }, author.token);
    assert.equal(posted.status, 201);
    const listed = await client(app).get(`/api/strategies/${strategy.body.id}/signals`);
    const documented = (s: any) => Object.keys(s.properties).sort();
    const created = doc.paths['/api/signals'].post.responses['201'].content['application/json'].schema;
    assert.deepEqual(Object.keys(posted.body).sort(), documented(created));
    signalSchema.strict().parse(posted.body);
    const list = doc.paths['/api/strategies/{id}/signals'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(Object.keys(listed.body.signals[0]).sort(), documented(list.properties.signals.items));
  });

  it('marks routes that need a token with the bearer scheme and public ones with none', () => {
    assert.deepEqual(doc.paths['/api/subscriptions'].get.security, [{ bearer: [] }]);
    assert.deepEqual(doc.paths['/api/strategies'].get.security, []);
    assert.deepEqual(doc.paths['/api/ws-ticket'].post.security, [{ bearer: [] }]);
  });

  it('renders the reference page in Chromium from our origin only (every route listed, no page error)', async function () {
    this.timeout(90_000);
    const u = await registerUser(app);
    assert.ok(u.token);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const foreign: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (req) => { if (!req.url().startsWith(app.url)) foreign.push(req.url()); });
      await page.goto(`${app.url}/api/docs`, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => /routes\.$/.test(document.querySelector('#msg')?.textContent ?? ''), { timeout: 30_000 });
      const count = Object.values<Record<string, unknown>>(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      assert.equal(await page.$$eval('details.op', (d) => d.length), count);
      await page.click('#postApiSubscriptions > summary');
      const body = await page.$eval('#postApiSubscriptions .schema', (n) => n.textContent ?? '');
      assert.match(body, /strategyId: string \(uuid\)/);
      assert.match(body, /maxSlippagePercent\?: number/);
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, []);
    } finally { await browser.close(); }
  });
});
