/**
 * Load generator for the ingest bench, run as a child process so it does not share the server's event
 * loop: posts webhooks at a fixed rate and reports, per request, the seq and absolute start/end times.
 * The first `warmupSeconds` at the same rate are sent but not reported: they measure a cold process
 * (JIT, Prisma's first query compilations, pool connections), not the steady state the target is for.
 * Requests go through node:http with a keep-alive agent (as a webhook sender holding connections open
 * would): Node's fetch costs ~1 ms of CPU per request, which on 2 shared cores lands in the server's tail.
 */
import http from 'node:http';

const { hook, secret, rate, seconds, warmupSeconds = 0, burst = 0 } = JSON.parse(process.argv[2]!) as { hook: string; secret: string; rate: number; seconds: number; warmupSeconds?: number; burst?: number };
// A burst comes from many senders at once: one connection per request, all opened together.
const agent = new http.Agent({ keepAlive: true, maxSockets: burst ? Infinity : 64 });
const post = (body: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
  const req = http.request(hook, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { text += d; });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
  });
  req.on('error', reject);
  req.end(body);
});
const now = () => performance.timeOrigin + performance.now();
const results: { seq: number; start: number; end: number; status: number }[] = [];
if (burst) {
  // `burst` webhooks at the same instant (alerts of many strategies firing at a candle close).
  const begin = performance.now();
  await Promise.all(Array.from({ length: burst }, async (_, i) => {
    const start = now();
    const { status, body } = await post(JSON.stringify({ pair: `BURST${i}/USDT`, action: 'OPEN', direction: 'LONG', price: 100, secret }));
    results.push({ seq: status === 202 ? (JSON.parse(body) as { seq: number }).seq : 0, start, end: now(), status });
  }));
  process.stdout.write(JSON.stringify({ results, seconds: (performance.now() - begin) / 1000 }));
  process.exit(0);
}
const pending: Promise<void>[] = [];
const warm = rate * warmupSeconds;
const total = rate * seconds + warm;
let begin = performance.now();
for (let i = 0; i < total; i++) {
  if (i === warm && warm) { await Promise.all(pending.splice(0)); results.length = 0; begin = performance.now(); }
  const at = i - warm;
  const wait = begin + ((at >= 0 ? at : i) * 1000) / rate - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const start = now();
  const report = at >= 0;
  pending.push(post(JSON.stringify({ pair: `B${i}/USDT`, action: 'OPEN', direction: 'LONG', price: 100, secret }))
    .then(({ status, body }) => { if (report) results.push({ seq: (JSON.parse(body) as { seq: number }).seq, start, end: now(), status }); }));
}
await Promise.all(pending);
process.stdout.write(JSON.stringify({ results, seconds: (performance.now() - begin) / 1000 }));
