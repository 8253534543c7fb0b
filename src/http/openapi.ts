/**
 * The REST API's OpenAPI 3.1 document, built from the same zod schemas the routes validate with.
 * Each route module declares its routes once with `describeRoutes` (at import time, beside the schemas
 * it passes to `parseBody`); `openApiDocument()` turns the registry into the document served at
 * GET /api/openapi.json, and /api/docs renders it (public/site/api-docs.*). test/openapi.test.ts
 * walks the express app and fails for a route that is mounted but not described here.
 */
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: shown in the document and mapped to its security requirement. */
export type RouteAuth = 'public' | 'user' | 'author' | 'admin' | 'webhook-secret' | 'operator';

/** One response: a description, optionally its body's schema. */
export type ResponseDoc = string | { description: string; schema?: z.ZodType; contentType?: string };

export interface RouteDoc {
  method: HttpMethod;
  /** Express-style path (`/api/strategies/:id`); parameters become `{id}`. */
  path: string;
  summary: string;
  description?: string;
  /** Grouping on the reference page; defaults to the path's second segment. */
  tag?: string;
  auth: RouteAuth;
  /** The request body's schema (the one handed to parseBody / safeParse). */
  body?: z.ZodType;
  /** The query string's schema: an object whose keys are the parameters. */
  query?: z.ZodObject;
  /** Descriptions of the path parameters (every `:name` is documented, as a string). */
  params?: Record<string, string>;
  responses: Record<number, ResponseDoc>;
}

const registry = new Map<string, RouteDoc>();
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Declares routes for the document. A second declaration of the same method and path replaces the first. */
export function describeRoutes(docs: RouteDoc[]): void {
  for (const d of docs) registry.set(key(d.method, d.path), d);
}

/** The declared routes as `METHOD /express/path` keys (for the coverage test). */
export function describedRoutes(): string[] {
  return [...registry.keys()];
}

/** The error body every 4xx/5xx carries. */
export const errorSchema = z.object({
  error: z.object({ code: z.string().describe('UPPER_SNAKE code a client can branch on'), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

/** Zod → JSON Schema (2020-12, the dialect of OpenAPI 3.1): the input side for requests, the output side for responses. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

const AUTH_TEXT: Record<RouteAuth, string> = {
  public: 'Public.',
  user: 'Any signed-in user (Bearer JWT).',
  author: 'An AUTHOR (or ADMIN) account (Bearer JWT).',
  admin: 'An ADMIN account (Bearer JWT).',
  'webhook-secret': 'The strategy\'s webhook secret, in the body as `secret` or in the `X-Webhook-Secret` header.',
  operator: 'Operators: clients from OPERATOR_NETWORKS (loopback by default).',
};

const SECURITY: Record<RouteAuth, Record<string, string[]>[] | undefined> = {
  public: [],
  user: [{ bearer: [] }],
  author: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  'webhook-secret': [{ webhookSecret: [] }, {}],
  operator: [],
};

/** The OpenAPI 3.1 document of every declared route. */
export function openApiDocument(opts: { version?: string; serverUrl?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const docs = [...registry.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const d of docs) {
    const oaPath = d.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: Record<string, unknown>[] = [];
    for (const m of d.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
      parameters.push({ name: m[1], in: 'path', required: true, description: d.params?.[m[1]!] ?? (/id$/i.test(m[1]!) ? 'a UUID' : undefined), schema: { type: 'string' } });
    }
    if (d.query) {
      const q = jsonSchema(d.query, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(d.responses)) {
      const doc = typeof r === 'string' ? { description: r } : r;
      const schema = doc.schema ?? (Number(status) >= 400 ? errorSchema : undefined);
      responses[status] = {
        description: doc.description,
        ...(schema ? { content: { [doc.contentType ?? 'application/json']: { schema: jsonSchema(schema, 'output') } } } : {}),
      };
    }
    const op: Record<string, unknown> = {
      operationId: `${d.method}${oaPath.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`,
      summary: d.summary,
      description: [d.description, `**Who:** ${AUTH_TEXT[d.auth]}`].filter(Boolean).join('\n\n'),
      tags: [d.tag ?? d.path.split('/').filter(Boolean)[1] ?? d.path.split('/')[1] ?? 'other'],
      ...(SECURITY[d.auth] ? { security: SECURITY[d.auth] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(d.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(d.body, 'input') } } } } : {}),
      responses,
    };
    (paths[oaPath] ??= {})[d.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Signal marketplace API',
      version: opts.version ?? '1',
      description: 'REST API of the signal marketplace. JSON in and out; errors are `{ "error": { "code", "message" } }`. '
        + 'Live signals are on the WebSocket `/ws/signals`, described in docs/protocol.md in the repository.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The token from POST /api/auth/login or /api/auth/register.' },
        webhookSecret: { type: 'apiKey', in: 'header', name: 'X-Webhook-Secret', description: 'The strategy\'s webhook secret (or `secret` in the body).' },
      },
    },
  };
}

/** GET /api/openapi.json (the document) and GET /api/docs (the reference page that renders it); both public. */
export function openApiRoutes(opts: { version?: string } = {}): Router {
  const siteDir = fileURLToPath(new URL('../../public/site/', import.meta.url));
  const r = Router();
  let cached: string | undefined;
  r.get('/api/openapi.json', (_req, res) => {
    // Built on first use: every route module has registered by then (they register at import).
    cached ??= JSON.stringify(openApiDocument({ version: opts.version }));
    res.type('application/json').set('Cache-Control', 'no-cache').send(cached);
  });
  r.get('/api/docs', (_req, res) => { res.sendFile('api-docs.html', { root: siteDir, maxAge: 0, headers: { 'Cache-Control': 'no-cache' } }); });
  return r;
}

describeRoutes([
  { method: 'get', path: '/api/openapi.json', tag: 'docs', auth: 'public', summary: 'This OpenAPI 3.1 document', responses: { 200: 'the document' } },
  { method: 'get', path: '/api/docs', tag: 'docs', auth: 'public', summary: 'The API reference page (HTML) rendering this document', responses: { 200: { description: 'HTML page', schema: z.string(), contentType: 'text/html' } } },
]);
