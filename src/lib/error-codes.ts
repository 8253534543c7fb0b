/**
 * The error-code catalogue: every code an HTTP client can get in `{ error: { code, message } }`, with its
 * one HTTP status and meaning. `AppError`'s code is typed by it; the central handler answers a code that is
 * not here as 500 INTERNAL. Rules:
 * - A missing resource is `<RESOURCE>_NOT_FOUND` (404); `NOT_FOUND` alone means "no such route".
 * - An id in the path that is not a UUID is the same miss as an unknown one: 404 `<RESOURCE>_NOT_FOUND`.
 *   An id in a body or query field that is not a UUID is 400 `VALIDATION_FAILED` naming the field; a
 *   well-formed id that names nothing is 404 `<RESOURCE>_NOT_FOUND`.
 * Two further vocabularies travel elsewhere and are listed below: WebSocket `ERROR` frame codes and the
 * reason prefix of an execution row's `error` ("PRICE_MOVED: …").
 */

interface CodeInfo { status: number; meaning: string }

export const ERROR_CODES = {
  // request shape
  VALIDATION_FAILED: { status: 400, meaning: 'a body or query field is missing or malformed; details.field names it' },
  INVALID_JSON: { status: 400, meaning: 'the request body is not valid JSON' },
  BAD_REQUEST: { status: 400, meaning: 'the HTTP layer refused the request (its own 4xx status is kept)' },
  BODY_TOO_LARGE: { status: 413, meaning: 'the request body is over BODY_LIMIT' },
  BAD_ENCODING: { status: 415, meaning: 'unsupported body encoding or charset' },
  // who you are
  UNAUTHORIZED: { status: 401, meaning: 'no bearer token (or no WebSocket credential)' },
  TOKEN_INVALID: { status: 401, meaning: 'the token is forged or malformed' },
  TOKEN_EXPIRED: { status: 401, meaning: 'the token has expired: log in again' },
  TICKET_INVALID: { status: 401, meaning: 'the WebSocket ticket is unknown, used or expired' },
  ACCOUNT_NOT_FOUND: { status: 401, meaning: 'the account of this token no longer exists' },
  INVALID_CREDENTIALS: { status: 401, meaning: 'email or password is wrong' },
  WEBHOOK_SECRET_INVALID: { status: 401, meaning: 'the webhook secret is missing or wrong' },
  FORBIDDEN: { status: 403, meaning: 'signed in, but this role or user may not do this' },
  OPERATOR_ONLY: { status: 403, meaning: 'only served to OPERATOR_NETWORKS' },
  // missing things
  NOT_FOUND: { status: 404, meaning: 'no such route (or WebSocket path)' },
  STRATEGY_NOT_FOUND: { status: 404, meaning: 'no strategy with this id (also a malformed id in the path)' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, meaning: 'no subscription of yours with this id (also a malformed id in the path)' },
  CHART_FIXTURE_NOT_FOUND: { status: 404, meaning: 'no recorded candle file of this name' },
  BOT_NOT_FOUND: { status: 404, meaning: 'no bot with this id on this strategy (also a malformed id in the path)' },
  SCREENSHOT_NOT_FOUND: { status: 404, meaning: 'the bot has no screenshot yet' },
  // state conflicts
  EMAIL_TAKEN: { status: 409, meaning: 'an account with this email exists' },
  ALREADY_SUBSCRIBED: { status: 409, meaning: 'you already hold a live subscription to this strategy' },
  SUBSCRIPTION_CANCELLED: { status: 409, meaning: 'a cancelled subscription cannot be changed' },
  NO_KEYS: { status: 409, meaning: 'the subscription has no API keys stored' },
  KEY_DECRYPT_FAILED: { status: 409, meaning: 'the stored API keys cannot be decrypted with the keys this server holds: store them again' },
  SIGNAL_STALE: { status: 409, meaning: 'the signal is older than the strategy allows (maxLagSeconds)' },
  PRICE_OUT_OF_BAND: { status: 409, meaning: 'an OPEN price too far from the reference exchange price' },
  NO_OPEN_TRADE: { status: 409, meaning: 'no open trade to close (or the named trade is closed)' },
  TRADE_ALREADY_OPEN: { status: 409, meaning: 'the strategy already holds an open trade on this pair' },
  TRADE_CONFLICT: { status: 409, meaning: 'an OPEN against an open trade in the other direction' },
  EMAIL_NOT_CONFIGURED: { status: 409, meaning: 'this server sends no email (no SMTP_URL)' },
  TELEGRAM_NOT_CONFIGURED: { status: 409, meaning: 'this server has no Telegram bot (no TELEGRAM_BOT_TOKEN)' },
  BOT_LIMIT_REACHED: { status: 409, meaning: 'the author already holds BOTS_PER_AUTHOR bots: delete one first' },
  // signal content
  SIGNAL_INVALID: { status: 400, meaning: 'the signal body is malformed; details.field names the field' },
  PAIR_NOT_IN_STRATEGY: { status: 400, meaning: 'the pair is not one the strategy declares' },
  PAIR_NOT_LISTED: { status: 400, meaning: 'the reference exchange lists no such market' },
  WEBHOOK_URL_REFUSED: { status: 400, meaning: 'the notification webhook URL is not allowed (not https, private address)' },
  // exchanges and charts
  EXCHANGE_UNKNOWN: { status: 400, meaning: 'ccxt has no exchange of this id' },
  EXCHANGE_BAD_SYMBOL: { status: 400, meaning: 'the exchange has no such market' },
  CHART_QUERY_INVALID: { status: 400, meaning: 'a chart query parameter is malformed' },
  CHART_EXCHANGE_NOT_CONFIGURED: { status: 400, meaning: 'charts do not use this exchange' },
  CHART_PARAMS_INVALID: { status: 400, meaning: 'the chart strategy refused its parameters' },
  EXCHANGE_AUTH: { status: 502, meaning: 'the exchange refused the stored API keys' },
  EXCHANGE_REJECTED: { status: 502, meaning: 'the exchange refused the order' },
  EXCHANGE_ORDER_NOT_FOUND: { status: 502, meaning: 'an order lookup on the exchange found nothing' },
  CAPTURE_PAGE_ERROR: { status: 502, meaning: 'the chart page reported an error to the capturer' },
  EXCHANGE_TEMPORARY: { status: 503, meaning: 'the exchange did not answer usefully: retry' },
  EXCHANGE_BUSY: { status: 503, meaning: 'the request budget for this exchange is spent: retry after details.retryAfterSeconds' },
  // load and availability
  RATE_LIMITED: { status: 429, meaning: 'too many requests of this kind: wait a minute' },
  SERVER_BUSY: { status: 503, meaning: 'too much work queued (e.g. logins): retry shortly' },
  TELEGRAM_UNAVAILABLE: { status: 503, meaning: 'the Telegram bot did not answer: retry' },
  SHUTTING_DOWN: { status: 503, meaning: 'the server is stopping (WebSocket upgrade refused): retry' },
  UNAVAILABLE: { status: 503, meaning: 'a store needed to answer (Redis) did not: retry' },
  // the server's own failures (never caused by the request)
  INTERNAL: { status: 500, meaning: 'a bug or an outage; the log has the details (never the response)' },
  CONFIG_INVALID: { status: 500, meaning: 'a configured value is unusable' },
  CHART_FIXTURE_INVALID: { status: 500, meaning: 'a recorded candle file is malformed' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);

/** Resources whose miss has its own code (`notFound('strategy')` → STRATEGY_NOT_FOUND). */
export const RESOURCE_NOT_FOUND = {
  strategy: 'STRATEGY_NOT_FOUND',
  subscription: 'SUBSCRIPTION_NOT_FOUND',
  bot: 'BOT_NOT_FOUND',
} as const satisfies Record<string, ErrorCode>;
export type Resource = keyof typeof RESOURCE_NOT_FOUND;

/** WebSocket `ERROR` frame codes (`{ type: 'ERROR', code, message }`): the socket stays open. */
export const WS_FRAME_ERROR_CODES = {
  BAD_JSON: 'the frame is not valid JSON',
  BAD_MESSAGE: 'not a JSON object with a known shape, or a binary frame',
  UNKNOWN_TYPE: 'the message type is not one the server knows',
  RESUME_IN_PROGRESS: 'a RESUME is already running on this socket',
  INTERNAL: 'the server could not handle this message',
} as const;

/**
 * Execution rows (`GET /api/executions`): `error` starts with one of these reasons and ": ", then a sentence.
 * A SKIPPED row placed nothing; FAILED/PARTIAL say what went wrong.
 */
export const EXECUTION_REASONS = {
  PRICE_MOVED: 'SKIPPED: the venue price is further than maxSlippagePercent from the signal price',
  PRICE_UNAVAILABLE: 'SKIPPED: no venue price and none usable in the signal',
  PRICE_UNVERIFIED: 'paper fill at the declared price: the venue price could not be fetched',
  BELOW_MIN_QTY: 'SKIPPED: the amount is below the market minimum quantity',
  BELOW_MIN_NOTIONAL: 'SKIPPED: the order value is below the market minimum',
  SIZING_INVALID: 'SKIPPED: the subscription has no valid sizing',
  SPOT_NO_SHORT: 'SKIPPED: a spot account cannot open a SHORT',
  SUBSCRIPTION_NOT_ACTIVE: 'SKIPPED: the subscription is paused or cancelled (only CLOSE signals run)',
  CLOSE_ONLY: 'SKIPPED: the subscription is in close-only mode',
  DAILY_LOSS_LIMIT: 'SKIPPED: realised loss today reached the daily limit',
  POSITION_ALREADY_OPEN: 'SKIPPED: the subscription already holds this pair',
  NO_POSITION: 'SKIPPED: nothing of this pair to close',
  KEYS_INVALID: 'the exchange refused the API key: store new keys',
  KEY_DECRYPT_FAILED: 'the stored API keys cannot be decrypted with the configured keys',
  KEYS_NOT_READABLE_HERE: 'retrying: handed to another executor that can decrypt the keys',
  RETRYING: 'retrying after a temporary failure',
  NOT_FOUND: 'FAILED: the subscription or signal no longer exists',
  PROTECT_FAILED: 'PARTIAL: the entry filled but its stop-loss/take-profit order failed',
  NO_EXCHANGE_STOPS: 'the venue rests no stop orders for spot: the CLOSE signal is the stop',
  SYMBOL_NOT_LISTED: 'SKIPPED: the venue lists no USDT perpetual for the pair (futures)',
  LEVERAGE_ABOVE_BRACKET: 'SKIPPED: the subscription leverage is above what the venue bracket allows for the position size (futures)',
  INSUFFICIENT_MARGIN: 'SKIPPED: initial margin plus a fee reserve exceeds the free margin (futures); nothing was sent',
  ENTRY_NOT_FILLED: 'FAILED: the entry order ended without a fill',
  CLOSED_ON_EXCHANGE: 'the venue held no (or less) position to reduce: a stop, a liquidation or a manual close came first (futures)',
  RECONCILE_MISMATCH: 'FAILED: the futures position on the exchange differs from ours in a way no close explains (nothing changed: check the account)',
} as const;

/** The README table (code | status | meaning), generated from ERROR_CODES. */
export function errorCodesMarkdown(): string {
  const rows = (Object.entries(ERROR_CODES) as [ErrorCode, CodeInfo][])
    .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
    .map(([code, i]) => `| \`${code}\` | ${i.status} | ${i.meaning} |`);
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n');
}
