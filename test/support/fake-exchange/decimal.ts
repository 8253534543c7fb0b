/**
 * Exact fixed-point decimals for the fake exchange: every amount is a bigint
 * scaled by 10^18, so filter checks (multiples of stepSize/tickSize) and
 * balance arithmetic never suffer from binary floating point.
 */

/** Number of fractional digits carried internally. */
export const SCALE_DIGITS = 18;
/** 1.0 in internal units. */
export const ONE = 10n ** BigInt(SCALE_DIGITS);

/** Binance's legal pattern for numeric request parameters. */
const LEGAL_DECIMAL = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;

/** Parses a non-negative decimal string as Binance accepts it; undefined when illegal. */
export function parseDecimal(text: string): bigint | undefined {
  if (!LEGAL_DECIMAL.test(text)) {
    return undefined;
  }
  const [whole, fraction = ''] = text.split('.');
  const digits = (fraction + '0'.repeat(SCALE_DIGITS)).slice(0, SCALE_DIGITS);
  return BigInt(whole) * ONE + BigInt(digits);
}

/** Converts a test-supplied number or decimal string to internal units (throws on garbage). */
export function toUnits(value: number | string | bigint): bigint {
  if (typeof value === 'bigint') {
    return value;
  }
  const text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const negative = text.startsWith('-');
  const parsed = parseDecimal(negative ? text.slice(1) : text);
  if (parsed === undefined) {
    throw new Error(`not a decimal: ${String(value)}`);
  }
  return negative ? -parsed : parsed;
}

function numberToPlain(value: number): string {
  if (!Number.isFinite(value)) {
    throw new Error(`not a finite number: ${value}`);
  }
  const text = String(value);
  return /e/i.test(text) ? value.toFixed(SCALE_DIGITS) : text;
}

/** Formats internal units with a fixed number of decimals (truncating), Binance style. */
export function formatUnits(value: bigint, decimals = 8): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / ONE;
  const fraction = (abs % ONE).toString().padStart(SCALE_DIGITS, '0').slice(0, decimals);
  const body = decimals > 0 ? `${whole}.${fraction}` : whole.toString();
  return negative ? `-${body}` : body;
}

/** Product of two internal-unit values (truncated). */
export function mul(a: bigint, b: bigint): bigint {
  return (a * b) / ONE;
}

/** Quotient of two internal-unit values (truncated); b must be non-zero. */
export function div(a: bigint, b: bigint): bigint {
  return (a * ONE) / b;
}

/** Largest multiple of `step` not above `value` (value itself when step is 0). */
export function floorToStep(value: bigint, step: bigint): bigint {
  return step === 0n ? value : value - (value % step);
}

/** Smaller of two values. */
export function minUnits(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
