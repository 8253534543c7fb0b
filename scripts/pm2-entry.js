// PM2 entry point: registers tsx's loader, then runs src/main.ts. A plain .js script works the same in
// PM2's cluster mode (node's cluster module, which ignores `interpreter`) and fork mode, and keeps PM2
// from looking for ts-node when it sees a .ts script.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
