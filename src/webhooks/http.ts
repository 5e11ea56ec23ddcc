/**
 * One webhook POST, on node:http(s) for full control: a 15 s deadline for the whole exchange, no
 * redirect followed (a 3xx is a failure), only the first 1 KB of the answer read and kept (a
 * 10 MB reply costs nothing), and optionally the connection pinned to a vetted IP address.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export const DELIVERY_TIMEOUT_MS = 15_000;
export const RESPONSE_BODY_LIMIT = 1024;

export interface PostResult {
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
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
    const finish = (result: Omit<PostResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve({ ...result, latencyMs: latency() });
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
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({ statusCode: response.statusCode ?? null, responseBody: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BODY_LIMIT), error: null });
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
