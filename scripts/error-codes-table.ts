/**
 * Prints the error-code table (code | status | meaning) from the catalogue, src/lib/error-codes.ts.
 *   npx tsx scripts/error-codes-table.ts              the table, for the README
 *   npx tsx scripts/error-codes-table.ts --check FILE exit 1 (with the table) when FILE does not hold it verbatim
 */
import { readFileSync } from 'node:fs';
import { errorCodesMarkdown } from '../src/lib/error-codes.js';

const table = errorCodesMarkdown();
const check = process.argv.indexOf('--check');
if (check === -1) {
  process.stdout.write(`${table}\n`);
} else {
  const file = process.argv[check + 1];
  if (!file) { process.stderr.write('usage: error-codes-table.ts --check FILE\n'); process.exit(2); }
  if (readFileSync(file, 'utf8').includes(table)) process.stdout.write(`${file}: the error-code table matches the catalogue\n`);
  else { process.stderr.write(`${file} does not hold the current error-code table; paste:\n\n${table}\n`); process.exit(1); }
}
