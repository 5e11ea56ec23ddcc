/**
 * One webhook POST, on node:http(s) for full control: a 15 s deadline for the whole exchange, no
 * redirect followed (a 3xx is a failure), only the first 1 KB of the answer read and kept (a
 * 10 MB reply costs nothing), and optionally the connection pinned to a vetted IP address. What
 * the receiver sends back is turned into storable text (`storableText`): Postgres refuses a NUL
 * in text, and an answer in gzip, UTF-16 or protobuf must not make recording the attempt fail.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export const DELIVERY_TIMEOUT_MS = 15_000;
export const RESPONSE_BODY_LIMIT = 1024;

/** An error message kept at most this long: a receiver's TLS or parser errors may be long. */
export const ERROR_LIMIT = 500;

export interface PostResult {
  statusCode: number | null;
  latencyMs: number;
  /** The first RESPONSE_BODY_LIMIT bytes of the answer, as storable text. */
  responseBody: string | null;
  error: string | null;
  /** The address the connection reached (null if none), so callers keep answers only from public ones. */
  remoteAddress: string | null;
}

/**
 * A receiver's bytes as text Postgres (UTF-8 `text`) and JSON always accept: invalid UTF-8 (a
 * sequence cut at the 1 KB limit too) decodes to U+FFFD, and so do NUL and the other control
 * characters but tab and newlines, so binary answers read as replacement characters.
 */
export function storableText(bytes: Buffer): string {
  return sanitized(bytes.toString('utf8'));
}

/** A string from the network or a library (an error message, say) made storable and bounded. */
export function storableString(text: string, limit = ERROR_LIMIT): string {
  // Cut first: a cut through a surrogate pair is then repaired like any other lone surrogate.
  return sanitized(text.length > limit ? `${text.slice(0, limit - 1)}…` : text);
}

function sanitized(text: string): string {
  return (
    text
      // Lone surrogates (possible in a JS string, not in UTF-8).
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      // NUL (which Postgres text cannot hold) and the other controls but tab and newlines.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
  );
}

export function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: { pinnedAddress?: { address: string; family: 4 | 6 }; timeoutMs?: number } = {},
): Promise<PostResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const pinned = options.pinnedAddress;
  const lookup: LookupFunction | undefined = pinned
    ? (_hostname, lookupOptions, callback) => {
        if ((lookupOptions as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      }
    : undefined;
  return new Promise((resolve) => {
    let settled = false;
    let remoteAddress: string | null = null;
    const finish = (result: Omit<PostResult, 'latencyMs' | 'remoteAddress'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve({ ...result, error: result.error === null ? null : storableString(result.error), latencyMs: latency(), remoteAddress });
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      agent: false,
      ...(lookup ? { lookup } : {}),
    });
    const deadline = setTimeout(() => finish({ statusCode: null, responseBody: null, error: `no response within ${timeoutMs / 1000} s` }), timeoutMs);
    request.on('error', (error) => finish({ statusCode: null, responseBody: null, error: error.message }));
    // The address actually connected to, whatever the URL's name resolved to.
    request.on('socket', (socket) => socket.once('connect', () => (remoteAddress = socket.remoteAddress ?? null)));
    request.on('response', (response) => {
      remoteAddress = response.socket.remoteAddress ?? remoteAddress;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => finish({ statusCode: response.statusCode ?? null, responseBody: storableText(Buffer.concat(chunks)), error: null });
      response.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - size));
        size += chunk.length;
        if (size >= RESPONSE_BODY_LIMIT) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(body);
  });
}
