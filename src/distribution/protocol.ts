/**
 * The /ws/signals wire protocol (docs/protocol.md describes it for client authors). Every frame is one JSON text.
 * Server → client: WELCOME {seq}, SIGNAL {seq, signal}, GAP {fromSeq, toSeq}, SETTINGS {autoExecute}
 * (acknowledges a stored setting), PONG, ERROR {code, message}.
 * Client → server: RESUME {lastSeq}, SETTINGS {autoExecute}, PING.
 */
import type { Signal } from '../signals/index.js';

export type ClientMessage =
  | { type: 'RESUME'; lastSeq: number }
  | { type: 'SETTINGS'; autoExecute: boolean }
  | { type: 'PING' };

/** Stable ERROR codes a client can branch on. */
export type ProtocolErrorCode = 'BAD_JSON' | 'UNKNOWN_TYPE' | 'BAD_MESSAGE' | 'RESUME_IN_PROGRESS' | 'INTERNAL';

export class ProtocolError extends Error {
  constructor(readonly code: ProtocolErrorCode, message: string) { super(message); }
}

/** Parses one client frame; throws ProtocolError naming what is wrong. */
export function parseClientMessage(data: Buffer | string): ClientMessage {
  let msg: unknown;
  try { msg = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')); } catch {
    throw new ProtocolError('BAD_JSON', 'message is not valid JSON');
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) throw new ProtocolError('BAD_MESSAGE', 'message must be a JSON object with a "type"');
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'PING': return { type: 'PING' };
    case 'RESUME':
      if (typeof m.lastSeq !== 'number' || !Number.isSafeInteger(m.lastSeq) || m.lastSeq < 0) {
        throw new ProtocolError('BAD_MESSAGE', 'RESUME needs "lastSeq", an integer >= 0');
      }
      return { type: 'RESUME', lastSeq: m.lastSeq };
    case 'SETTINGS':
      if (typeof m.autoExecute !== 'boolean') throw new ProtocolError('BAD_MESSAGE', 'SETTINGS needs "autoExecute", a boolean');
      return { type: 'SETTINGS', autoExecute: m.autoExecute };
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(String(m.type)).slice(0, 60)}`);
  }
}

/** Encoders: each returns the frame payload as a Buffer, ready to send to any number of sockets. */
export const frames = {
  welcome: (seq: number) => Buffer.from(`{"type":"WELCOME","seq":${seq}}`),
  signal: (signal: Signal) => Buffer.from(`{"type":"SIGNAL","seq":${signal.seq},"signal":${JSON.stringify(signal)}}`),
  gap: (fromSeq: number, toSeq: number) => Buffer.from(`{"type":"GAP","fromSeq":${fromSeq},"toSeq":${toSeq}}`),
  settings: (autoExecute: boolean) => Buffer.from(`{"type":"SETTINGS","autoExecute":${autoExecute}}`),
  pong: Buffer.from('{"type":"PONG"}'),
  error: (code: ProtocolErrorCode, message: string) => Buffer.from(JSON.stringify({ type: 'ERROR', code, message })),
};

/**
 * The complete unmasked WebSocket text frame (FIN, opcode 1, RFC 6455 §5.2) around `payload`. A
 * fan-out frames a signal once and writes these same bytes to every socket, instead of `ws.send`
 * building a header and a two-buffer write per recipient. Valid only without permessage-deflate
 * (the server never negotiates it).
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81;
  if (n < 126) out[1] = n;
  else if (n < 65536) { out[1] = 126; out.writeUInt16BE(n, 2); }
  else { out[1] = 127; out.writeUInt32BE(Math.floor(n / 2 ** 32), 2); out.writeUInt32BE(n >>> 0, 6); }
  payload.copy(out, head);
  return out;
}

/** WebSocket close codes used by the distributor. */
export const CLOSE = {
  goingAway: 1001,
  /** The user already holds WS_MAX_SOCKETS_PER_USER sockets. */
  policyViolation: 1008,
  tooBig: 1009,
  /** "Try again later": the client did not read fast enough and its bounded buffer filled. */
  slowConsumer: 1013,
  /** Application code: the token expired while connected. */
  tokenExpired: 4401,
} as const;
