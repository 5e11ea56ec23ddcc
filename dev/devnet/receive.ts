/**
 * `npm run cli -- devnet receive [--port 4000]`: a local receiver for order callbacks and webhooks
 * during `npm run dev`. It prints what arrives and checks an order callback's
 * `api-notification-sign` with the development merchant's test key (.data/dev-merchant.json), as
 * a merchant's server does. Listens on 127.0.0.1 only; Ctrl-C stops it.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { CALLBACK_SIGNATURE_HEADER, callbackSignature } from '../../src/orders/callback';
import { dataDir as defaultDataDir } from '../tools/paths';

export async function devnetReceive(options: { port: number }): Promise<http.Server> {
  const merchantFile = path.join(process.env.INFLOW_DEV_DATA_DIR || defaultDataDir, 'dev-merchant.json');
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      // Read at each request: `npm run dev` may make the development merchant after this started.
      const testKey = await readFile(merchantFile, 'utf8')
        .then((text) => (JSON.parse(text) as { test_key?: string }).test_key)
        .catch(() => undefined);
      const signature = request.headers[CALLBACK_SIGNATURE_HEADER];
      let verdict = 'no api-notification-sign header (a webhook event: verify it with your endpoint secret)';
      if (typeof signature === 'string') {
        const expected = testKey ? Buffer.from(callbackSignature(rawBody, testKey)) : undefined;
        const valid = expected !== undefined && expected.length === signature.length && timingSafeEqual(expected, Buffer.from(signature));
        verdict = testKey
          ? `api-notification-sign ${valid ? 'valid' : 'INVALID'} with the development merchant's test key`
          : 'no development merchant key found to check it with';
      }
      console.log(`\n${new Date().toISOString()} ${request.method} ${request.url} — ${verdict}\n${rawBody}`);
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  console.log(`listening on http://127.0.0.1:${options.port}/ — use it as a callback_url or a test webhook endpoint; Ctrl-C to stop`);
  return server;
}
