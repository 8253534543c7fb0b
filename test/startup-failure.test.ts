/**
 * A start-up that fails (here: PostgreSQL unreachable) logs the whole error with its stack under pino's
 * `err` and exits 1, so the operator sees which part failed and where.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort } from './support/processes.js';
import { testEnv } from './support/app.js';

describe('start-up failure', function () {
  this.timeout(60_000);

  it('logs "start-up failed" with err.type, err.message and err.stack, and exits 1', async () => {
    const closed = await freePort(); // nothing listens here
    const env = { ...process.env, ...testEnv({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${closed}/nope`, LOG_LEVEL: 'info', ROLES: 'api' }) } as NodeJS.ProcessEnv;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1, out);
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const fatal = lines.find((l) => l.msg === 'start-up failed');
    assert.ok(fatal, `no "start-up failed" line in:\n${out}`);
    assert.equal(fatal.level, 60);
    assert.equal(typeof fatal.err, 'object', 'err is the serialised error, not its message only');
    assert.match(fatal.err.message, /ECONNREFUSED|connect|reach/i);
    assert.equal(typeof fatal.err.type, 'string');
    assert.match(fatal.err.stack, /\n\s+at /, 'the stack has frames');
    assert.doesNotMatch(out, /KEY_ENCRYPTION_KEY=|JWT_SECRET=/, 'no secret in the output');
  });
});
