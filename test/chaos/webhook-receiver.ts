/**
 * The merchant's webhook endpoint: a real HTTP server on 127.0.0.1 that records every delivery
 * and its answer. A seeded share of first deliveries is answered 500, so retries (and with them
 * redeliveries under the same `webhook-id`) happen even when no fault hits a delivery.
 */
import { startReceiver, type ReceivedRequest } from '../helpers/receiver';
import type { Prng } from './prng';

export interface Receipt {
  request: ReceivedRequest;
  status: number;
  at: number;
}

export interface ChaosReceiver {
  url: string;
  receipts: Receipt[];
  close(): Promise<void>;
}

export async function startChaosReceiver(prng: Prng, options: { firstAttemptFailureRate: number }): Promise<ChaosReceiver> {
  const receipts: Receipt[] = [];
  const seen = new Set<string>();
  const receiver = await startReceiver((request) => {
    const id = String(request.headers['webhook-id'] ?? '');
    const status = !seen.has(id) && prng.chance(options.firstAttemptFailureRate) ? 500 : 200;
    seen.add(id);
    receipts.push({ request, status, at: Date.now() });
    return status;
  });
  return { url: receiver.url, receipts, close: receiver.close };
}
