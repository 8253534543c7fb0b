/**
 * A lean WebSocket client for the fan-out bench: thousands of these share one child process, so each
 * must cost as little as possible per message, or the bench measures the clients instead of the
 * server. A raw net.Socket with a static read buffer (`onread`: no Buffer and no stream machinery per
 * read), a hand-written RFC 6455 frame parser, and the signal's seq read from the frame's bytes (no
 * JSON.parse, no string). It answers pings (ws) and Engine.IO pings ("2" → "3"), and speaks enough of
 * Socket.IO v4 (open "0{…}" → connect "40", events `42["m",{…}]`) that all three servers in the
 * bench are measured with the same client.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export type Kind = 'ours' | 'ws' | 'sio';

/** One read buffer for every socket in the process: callbacks run one at a time and copy what they keep. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

const enum B { S = 0x53, W = 0x57, ZERO = 0x30, NINE = 0x39, FOUR = 0x34, TWO = 0x32 }

/** A masked (zero key, which RFC 6455 allows) client text frame. */
function clientText(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}
const SIO_CONNECT = clientText('40');
const SIO_PONG = clientText('3');

function readSeq(buf: Buffer, at: number, end: number): number {
  let seq = 0;
  for (let i = at; i < end; i++) {
    const c = buf[i]!;
    if (c < B.ZERO || c > B.NINE) break;
    seq = seq * 10 + (c - B.ZERO);
  }
  return seq;
}

/**
 * Connects one client and resolves (with a closer) when it is ready: ours at WELCOME (subscriptions
 * loaded), plain ws at the 101 response, Socket.IO at the namespace connect ("40…").
 */
export function leanConnect(kind: Kind, url: string, token: string, onSeq: (seq: number) => void): Promise<() => void> {
  const u = new URL(url);
  const path = kind === 'sio' ? '/socket.io/?EIO=4&transport=websocket' : u.pathname + u.search;
  return new Promise((resolve, reject) => {
    let upgraded = false;
    let ready = false;
    let carry: Buffer | null = null;
    const close = () => socket.destroy();
    const becomeReady = () => { if (!ready) { ready = true; resolve(close); } };

    const onText = (buf: Buffer, p: number, len: number) => {
      if (kind === 'sio') {
        if (buf[p] === B.FOUR && buf[p + 1] === B.TWO) { if (buf[p + 16] === B.S) onSeq(readSeq(buf, p + 30, p + len)); } // 42["m",{"type":"SIGNAL","seq":N
        else if (len === 1 && buf[p] === B.TWO) socket.write(SIO_PONG); // Engine.IO ping
        else if (buf[p] === B.ZERO) socket.write(SIO_CONNECT); // Engine.IO open
        else if (buf[p] === B.FOUR && buf[p + 1] === B.ZERO) becomeReady(); // namespace connected
        return;
      }
      // {"type":"SIGNAL","seq":N…  /  {"type":"WELCOME",…
      if (buf[p + 9] === B.S) onSeq(readSeq(buf, p + 23, p + len));
      else if (buf[p + 9] === B.W) becomeReady();
    };

    const onFrames = (buf: Buffer, start: number, end: number) => {
      let i = start;
      while (end - i >= 2) {
        const op = buf[i]! & 0x0f;
        let len = buf[i + 1]! & 0x7f;
        let head = 2;
        if (len === 126) { if (end - i < 4) break; len = buf.readUInt16BE(i + 2); head = 4; }
        else if (len === 127) { if (end - i < 10) break; len = buf.readUInt32BE(i + 6); head = 10; }
        if (end - i < head + len) break;
        const p = i + head;
        if (op === 1 || op === 2) onText(buf, p, len);
        else if (op === 9) socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | len, 0, 0, 0, 0]), buf.subarray(p, p + len)])); // pong
        else if (op === 8) socket.destroy();
        i = p + len;
      }
      // A frame split across reads: keep its bytes (a copy: the read buffer is shared).
      carry = i < end ? Buffer.from(buf.subarray(i, end)) : null;
    };

    const socket = net.connect({
      host: u.hostname, port: Number(u.port),
      onread: {
        buffer: READ_BUFFER,
        callback: (nread: number, buf: Uint8Array) => { if (process.env.LDEBUG) console.error('read', nread, upgraded, JSON.stringify(Buffer.from(buf.subarray(0, nread)).toString('latin1')));
          let b = buf as Buffer;
          let end = nread;
          if (carry) { b = Buffer.concat([carry, b.subarray(0, nread)]); end = b.length; carry = null; }
          if (upgraded) { onFrames(b, 0, end); return true; }
          const at = b.subarray(0, end).indexOf('\r\n\r\n');
          if (at < 0) { carry = Buffer.from(b.subarray(0, end)); return true; }
          if (!b.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) { reject(new Error(`upgrade refused: ${b.subarray(0, 40).toString('latin1')}`)); socket.destroy(); return false; }
          upgraded = true;
          if (kind === 'ws') becomeReady();
          onFrames(b, at + 4, end);
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`
        + (kind === 'ours' ? `Authorization: Bearer ${token}\r\n` : '') + '\r\n');
    });
  });
}
