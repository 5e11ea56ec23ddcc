/**
 * `npm run cli -- devnet receive [--port 4000] [--secret whsec_…]`: a local receiver for order
 * callbacks and webhooks during `npm run dev`. It prints what arrives and verifies it as a
 * merchant's server does: an order callback's `api-notification-sign` with the development
 * merchant's test key (.data/dev-merchant.json), a webhook's Standard Webhooks signature
 * (`webhook-signature`, within 5 minutes of `webhook-timestamp`) with the secrets `listen` keeps
 * (.data/listen-secrets/) and any `--secret` given (a registered endpoint's). Listens on 127.0.0.1
 * only; Ctrl-C stops it.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { listenSecrets } from '../../src/cli/listen-secrets';
import { verifyWebhook, WebhookVerificationError } from '../../src/domain/signatures';
import { CALLBACK_SIGNATURE_HEADER, callbackSignature } from '../../src/orders/callback';
import { dataDir as defaultDataDir } from '../tools/paths';

export async function devnetReceive(options: { port: number; secrets?: string[] }): Promise<http.Server> {
  const dataDir = process.env.INFLOW_DEV_DATA_DIR || defaultDataDir;
  const merchantFile = path.join(dataDir, 'dev-merchant.json');
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let verdict: string;
      const signature = request.headers[CALLBACK_SIGNATURE_HEADER];
      if (typeof signature === 'string') {
        verdict = await callbackVerdict(rawBody, signature, merchantFile);
      } else if (request.headers['webhook-signature'] !== undefined) {
        verdict = await webhookVerdict(rawBody, request.headers, dataDir, options.secrets ?? []);
      } else {
        verdict = 'neither api-notification-sign nor webhook-signature: not signed by inflow';
      }
      console.log(`\n${new Date().toISOString()} ${request.method} ${request.url} — ${verdict}\n${rawBody}`);
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  console.log(
    `listening on http://127.0.0.1:${options.port}/ — use it as a callback_url, a test webhook endpoint (with --secret) or listen's --forward-to; it verifies each signature; Ctrl-C to stop`,
  );
  return server;
}

/** An order callback: HMAC-SHA256 of the raw body with the merchant's API key, as CryptoPayments signs it. */
async function callbackVerdict(rawBody: string, signature: string, merchantFile: string): Promise<string> {
  // Read at each request: `npm run dev` may make the development merchant after this started.
  const testKey = await readFile(merchantFile, 'utf8')
    .then((text) => (JSON.parse(text) as { test_key?: string }).test_key)
    .catch(() => undefined);
  if (!testKey) return 'api-notification-sign: no development merchant key found to check it with';
  const expected = Buffer.from(callbackSignature(rawBody, testKey));
  const valid = expected.length === signature.length && timingSafeEqual(expected, Buffer.from(signature));
  return `api-notification-sign ${valid ? 'valid' : 'INVALID'} with the development merchant's test key`;
}

/** A webhook: the Standard Webhooks signature, with each secret this receiver knows; says which one verified it. */
async function webhookVerdict(rawBody: string, headers: http.IncomingHttpHeaders, dataDir: string, given: string[]): Promise<string> {
  // Read at each request: `listen` may make or rotate its secret after this started.
  const candidates = [
    ...given.map((secret) => ({ secret, name: 'the --secret given' })),
    ...(await listenSecrets(dataDir)).map((kept) => ({ secret: kept.secret, name: `listen's secret for ${kept.owner} (${kept.mode} mode)` })),
  ];
  if (candidates.length === 0) return 'webhook-signature: no secret to check it with (start `listen` first, or pass --secret whsec_…)';
  let failure = '';
  for (const candidate of candidates) {
    try {
      verifyWebhook(rawBody, headers, candidate.secret);
      return `webhook-signature valid with ${candidate.name}`;
    } catch (error) {
      // A signature that matches a body that is not JSON is not an inflow delivery either.
      failure = error instanceof WebhookVerificationError ? error.message : `the body is not JSON (${(error as Error).message})`;
    }
  }
  return `webhook-signature INVALID: ${failure} (checked with ${candidates.length === 1 ? candidates[0]!.name : `${candidates.length} secrets`})`;
}
