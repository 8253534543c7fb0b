// API reference page: renders /api/openapi.json (OpenAPI 3.1) with DOM nodes only (no HTML from data).
const el = (tag, props = {}, ...children) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) n[k] = v;
  for (const c of children) if (c !== null && c !== undefined) n.append(c);
  return n;
};

/** A compact, readable rendering of a JSON Schema: `name: type (constraints) — description` per line. */
function describeSchema(s, indent = '') {
  if (!s || typeof s !== 'object') return 'any';
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return alts.map((a) => `${indent}one of:\n${describeSchema(a, indent + '  ')}`).join('\n');
  if (s.type === 'object' || s.properties) {
    const req = new Set(s.required ?? []);
    const lines = Object.entries(s.properties ?? {}).map(([k, v]) => {
      const nested = v.type === 'object' || v.properties || (v.type === 'array' && v.items?.properties) || v.oneOf || v.anyOf && v.anyOf.some((x) => x.properties);
      const head = `${indent}${k}${req.has(k) ? '' : '?'}: ${typeName(v)}${constraints(v)}${v.description ? ` — ${v.description}` : ''}`;
      return nested ? `${head}\n${describeSchema(v.type === 'array' ? v.items : v, indent + '  ')}` : head;
    });
    if (s.additionalProperties === false) lines.push(`${indent}(no other fields)`);
    return lines.join('\n') || `${indent}{}`;
  }
  return `${indent}${typeName(s)}${constraints(s)}`;
}

function typeName(s) {
  if (!s || typeof s !== 'object') return 'any';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf).map(typeName).join(' | ');
  if (s.type === 'array') return `${typeName(s.items)}[]`;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return s.format ? `${s.type ?? 'any'} (${s.format})` : (s.type ?? 'any');
}

function constraints(s) {
  const c = [];
  if (s.minimum !== undefined) c.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) c.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) c.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) c.push(`length ≥ ${s.minLength}`);
  if (s.maxLength !== undefined) c.push(`length ≤ ${s.maxLength}`);
  if (s.maxItems !== undefined) c.push(`at most ${s.maxItems}`);
  if (s.default !== undefined) c.push(`default ${JSON.stringify(s.default)}`);
  return c.length ? ` (${c.join(', ')})` : '';
}

function operation(path, method, op) {
  const body = [];
  if (op.description) for (const para of op.description.split('\n\n')) body.push(el('p', { textContent: para.replace(/\*\*/g, '').replace(/`/g, '') }));
  const params = op.parameters ?? [];
  if (params.length) {
    body.push(el('h4', { textContent: 'Parameters' }), el('table', {},
      el('tr', {}, el('th', { textContent: 'name' }), el('th', { textContent: 'in' }), el('th', { textContent: 'type' }), el('th', { textContent: 'notes' })),
      ...params.map((p) => el('tr', {},
        el('td', {}, el('code', { textContent: p.name + (p.required ? '' : '?') })), el('td', { textContent: p.in }),
        el('td', { textContent: typeName(p.schema) + constraints(p.schema ?? {}) }), el('td', { textContent: p.description ?? '' })))));
  }
  const reqSchema = op.requestBody?.content?.['application/json']?.schema;
  if (reqSchema) body.push(el('h4', { textContent: 'Request body (JSON)' }), el('div', { className: 'schema', textContent: describeSchema(reqSchema) }));
  body.push(el('h4', { textContent: 'Responses' }), el('table', {},
    ...Object.entries(op.responses ?? {}).map(([status, r]) => {
      const schema = Number(status) < 400 ? r.content?.['application/json']?.schema : undefined;
      return el('tr', {}, el('td', {}, el('code', { textContent: status })),
        el('td', {}, r.description ?? '', schema ? el('div', { className: 'schema', textContent: describeSchema(schema) }) : null));
    })));
  return el('details', { className: 'op', id: op.operationId },
    el('summary', {}, el('span', { className: `method ${method}`, textContent: method }), el('span', { className: 'path', textContent: path }), el('span', { textContent: op.summary ?? '' })),
    ...body);
}

async function main() {
  const msg = document.getElementById('msg');
  const res = await fetch('/api/openapi.json');
  if (!res.ok) { msg.textContent = `Could not load the API document (HTTP ${res.status}).`; return; }
  const doc = await res.json();
  const byTag = new Map();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(path, method, op));
    }
  }
  const toc = document.getElementById('toc');
  const ops = document.getElementById('ops');
  for (const [tag, nodes] of [...byTag].sort(([a], [b]) => a.localeCompare(b))) {
    toc.append(el('a', { href: `#tag-${tag}`, textContent: tag }));
    ops.append(el('section', {}, el('h2', { id: `tag-${tag}`, textContent: tag }), ...nodes));
  }
  msg.textContent = `${doc.info?.title ?? 'API'}: ${[...byTag.values()].reduce((n, l) => n + l.length, 0)} routes.`;
}

main().catch((err) => { document.getElementById('msg').textContent = `Could not render the API document: ${err.message}`; });
