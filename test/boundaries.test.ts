/**
 * Module boundaries and library corners (README "Boundaries"): the dependency-cruiser rules in
 * .dependency-cruiser.cjs, proven to catch each kind of violation on a small fixture tree, and the two
 * rules that are not imports: `process.env` only in src/config (and main.ts, which hands it over), and
 * files written only through src/lib/atomic-file.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

/** Every file under `dir` (default src/) whose name ends with `ext`, as paths relative to the project root. */
function sourceFiles(dir = path.join(ROOT, 'src'), ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(full, ext);
    return name.endsWith(ext) ? [path.relative(ROOT, full)] : [];
  });
}

const jsFiles = (dir: string) => sourceFiles(dir, '.js');

interface Violation { rule: { name: string }; from: string; to: string }

/** Runs depcruise with the project's rules in `cwd` over its src/; resolves to the violations. */
function cruise(cwd: string): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(DEPCRUISE, ['--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'src'], { cwd, maxBuffer: 64 << 20 }, (err, stdout) => {
      // depcruise exits non-zero when it finds violations; the JSON is still complete.
      if (!stdout) return reject(err ?? new Error('depcruise printed nothing'));
      resolve((JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations);
    });
  });
}

describe('module boundaries (dependency-cruiser)', function () {
  this.timeout(120_000);

  it('the project itself has no violation: no cycle, modules through their index, libraries in their corners', async () => {
    const violations = await cruise(ROOT);
    assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), []);
  });

  it('a fixture that breaks each rule once is caught by each rule, at the offending import', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'boundaries-'));
    try {
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'tsconfig.json'), readFileSync(path.join(ROOT, 'tsconfig.json')));
      const files: Record<string, string> = {
        'src/exchange/index.ts': "export { rate } from './rate.js';\n",
        'src/exchange/rate.ts': 'export const rate = 1;\n',
        // A deep import into another module, and ccxt, ws, puppeteer, express outside their corners.
        'src/monitor/index.ts': "import { rate } from '../exchange/rate.js';\nimport ccxt from 'ccxt';\nimport { WebSocket } from 'ws';\nimport puppeteer from 'puppeteer-core';\nimport express from 'express';\nexport const x = [rate, ccxt, WebSocket, puppeteer, express];\n",
        // A cycle, as Component/AppContext in app.ts once made with the module index files.
        'src/app.ts': "import { y } from './signals/index.js';\nexport const app = y;\n",
        'src/signals/index.ts': "import { app } from '../app.js';\nexport const y = 1;\nexport const z = app;\n",
        // lib depends on no module.
        'src/lib/helper.ts': "import { rate } from '../exchange/index.js';\nexport const h = rate;\n",
        // Allowed: a router may import express; exchange may import ccxt; through the index is fine.
        'src/marketplace/index.ts': "import { rate } from '../exchange/index.js';\nexport const m = rate;\n",
        'src/marketplace/thing-routes.ts': "import { Router } from 'express';\nexport const r = Router();\n",
        'src/exchange/client.ts': "import ccxt from 'ccxt';\nexport const c = ccxt;\n",
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const found = (await cruise(dir)).map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/([^/]+)\/.*$/, '$1')}`);
      for (const expected of [
        'module-only-through-index: src/monitor/index.ts → src/exchange/rate.ts',
        'ccxt-only-in-exchange: src/monitor/index.ts → ccxt',
        'ws-only-in-distribution: src/monitor/index.ts → ws',
        'puppeteer-only-in-capture: src/monitor/index.ts → puppeteer-core',
        'express-only-in-http-entry-points: src/monitor/index.ts → express',
        'no-app-from-modules: src/signals/index.ts → src/app.ts',
        'lib-is-a-leaf: src/lib/helper.ts → src/exchange/index.ts',
      ]) assert.ok(found.includes(expected), `expected "${expected}" in:\n${found.join('\n')}`);
      assert.ok(found.some((f) => f.startsWith('no-circular: ')), `expected a cycle in:\n${found.join('\n')}`);
      const allowed = found.filter((f) => /marketplace|exchange\/client/.test(f.split(' → ')[0]!));
      assert.deepEqual(allowed, [], 'imports the rules allow are not reported');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('boundaries that are not imports', () => {
  it('process.env is read only in src/config (main.ts hands it to the config loader); no other source file touches it', () => {
    const offenders = sourceFiles()
      .filter((f) => !f.startsWith('src/config/') && f !== 'src/main.ts')
      .filter((f) => /\bprocess\.env\b/.test(readFileSync(path.join(ROOT, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('no source file writes a file with node:fs directly: data goes through the atomic, fsynced writes of src/lib/atomic-file.ts', () => {
    // Two reviewed exceptions: the development-secrets file written once at start-up (0600), and the
    // embedded database's lock file, written through its own exclusive temp file and rename.
    const exceptions = new Set(['src/lib/atomic-file.ts', 'src/config/index.ts', 'src/db/embedded.ts']);
    const writer = /\b(writeFile|writeFileSync|rename|renameSync|createWriteStream|appendFile|appendFileSync|copyFile|copyFileSync)\b/;
    const offenders = sourceFiles()
      .filter((f) => !exceptions.has(f))
      .filter((f) => {
        const imports = readFileSync(path.join(ROOT, f), 'utf8').match(/import[^;]*from '(?:node:)?fs(?:\/promises)?';/g) ?? [];
        return imports.some((line) => writer.test(line));
      });
    assert.deepEqual(offenders, []);
  });

  it('every dependency in package.json is used: imported by a source, test, script or bench file, or one of the named tools (an unused one like write-file-atomic fails here)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // Used without an import: compilers, runners and CLIs, ws's optional native masking, dependency-cruiser's parser.
    const tools = new Set(['typescript', 'tsx', 'prisma', 'mocha', 'bufferutil', 'dependency-cruiser', '@swc/core']);
    const files = ['src', 'test', 'scripts', 'bench'].flatMap((d) => sourceFiles(path.join(ROOT, d)).concat(jsFiles(path.join(ROOT, d))));
    const text = files.map((f) => readFileSync(path.join(ROOT, f), 'utf8')).join('\n') + readFileSync(path.join(ROOT, 'prisma.config.ts'), 'utf8');
    const unused = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
      .filter((name) => !tools.has(name) && !name.startsWith('@types/'))
      .filter((name) => !new RegExp(`['"]${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[^'"]*)?['"]`).test(text));
    assert.deepEqual(unused, []);
    const types = Object.keys(pkg.devDependencies).filter((n) => n.startsWith('@types/')).map((n) => n.slice('@types/'.length));
    assert.deepEqual(types.filter((t) => !(t in pkg.dependencies) && !(t in pkg.devDependencies) && t !== 'node' && t !== 'mocha'), [], 'no @types for a package that is gone');
  });
});
