/**
 * The loopback HTTP receiver the delivery benchmarks post to: it answers 204 at once, and keeps
 * the first arrival of each key (a webhook-id, an order id in the body) with the time it came
 * (performance.now()), for a benchmark to await.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackReceiver<T> {
  url: string;
  arrivals: Map<string, T>;
  /** Requests received, and those whose key had arrived before. */
  counts: { received: number; repeated: number };
  /** The key's first arrival: at once if it has come, else when it does, or a rejection after `timeoutMs`. */
  arrivalOf(key: string, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

/** `read` turns a request into its key and what to keep of it, or undefined when it has none. */
export async function startLoopbackReceiver<T>(
  path: string,
  read: (request: { headers: IncomingHttpHeaders; body: string; at: number }) => { key: string; arrival: T } | undefined,
): Promise<LoopbackReceiver<T>> {
  const arrivals = new Map<string, T>();
  const waiters = new Map<string, (arrival: T) => void>();
  const counts = { received: 0, repeated: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(204).end();
      counts.received++;
      const kept = read({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at });
      if (!kept) return;
      if (arrivals.has(kept.key)) {
        counts.repeated++;
        return;
      }
      arrivals.set(kept.key, kept.arrival);
      waiters.get(kept.key)?.(kept.arrival);
      waiters.delete(kept.key);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    arrivals,
    counts,
    arrivalOf(key, timeoutMs) {
      const arrived = arrivals.get(key);
      if (arrived !== undefined) return Promise.resolve(arrived);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`nothing arrived for ${key} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(key, (arrival) => {
          clearTimeout(timer);
          resolve(arrival);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
