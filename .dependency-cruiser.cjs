/**
 * Module boundaries and library corners, checked by `npm run lint:deps` (part of `npm test`).
 * The README's "Boundaries" table lists the same rules; `process.env` (not an import) and the atomic-write
 * rule are checked by test/boundaries.test.ts.
 *
 * A module is a folder of src/ with an index.ts; other folders import it only through that index.
 * The modules: bus, capture, config, db, distribution, exchange, execution, marketplace, metrics, monitor,
 * notifications, signals, subscriptions. (src/subscriptions owns the Subscription model: the executor, the
 * WebSocket routing table and the marketplace reach its repository, matching rule and keys only through
 * its index; test/subscriptions-module.test.ts proves a deep import into it fails here.)
 * src/lib/ (leaf helpers) and src/http/ (the HTTP kit) have no index and are imported file by file.
 */
const MODULE = '^src/(?!lib/|http/)[^/]+/';
/** Files that may speak express (and its middleware packages): the HTTP kit, the composition root and routers. */
const HTTP_ENTRY_POINTS = [
  '^src/http/',
  '^src/app\\.ts$',
  '^src/component\\.ts$',
  '^src/[^/]+/[a-z-]*routes\\.ts$',
  '^src/marketplace/(?:pages|cors)\\.ts$',
  // The authors' webhook-refusal digest counts answered error codes through a router mounted before the signal routes.
  '^src/notifications/digest\\.ts$',
];

/** One library allowed only under `allowed` (a path regex, or a list of them). */
function corner(name, packages, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: '^src/', pathNot: allowed },
    to: { path: `(^|/)node_modules/(?:${packages.join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'Import cycles make start-up order and refactoring fragile.', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', comment: 'Every import resolves (a typo or a missing package fails here, not at run time).', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true } },
    corner('ccxt-only-in-exchange', ['ccxt'], '^src/exchange/', 'ccxt (venue APIs, signing, error mapping) lives only in src/exchange/.'),
    corner('ws-only-in-distribution', ['ws', '@types/ws'], '^src/distribution/', 'The WebSocket server lives only in src/distribution/.'),
    corner('puppeteer-only-in-capture', ['puppeteer', 'puppeteer-core'], '^src/capture/', 'The headless browser lives only in src/capture/.'),
    corner('express-only-in-http-entry-points', ['express', '@types/express', 'express-rate-limit', 'rate-limit-redis', 'helmet'], HTTP_ENTRY_POINTS,
      'express belongs to the HTTP layer: src/http/, src/app.ts and the routers (*routes.ts, pages, CORS); logic takes plain values.'),
    {
      name: 'module-only-through-index',
      comment: 'Another module is imported through its index.ts, which is its public surface.',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: MODULE, pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'root-only-through-index',
      comment: 'app.ts and main.ts wire modules through their index.ts too. (component.ts, the contract every module index imports, names each type where it is defined: through the index it would close a cycle.)',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/component\\.ts$' },
      to: { path: MODULE, pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'lib-is-a-leaf',
      comment: 'src/lib/ helpers depend on no module (so any module can use them without a cycle).',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/(?!lib/)' },
    },
    {
      name: 'no-app-from-modules',
      comment: 'Only main.ts imports the composition root; modules take Component/AppContext from src/component.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript compiler API, so sources are parsed with swc (type-only imports included).
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
