import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  path: string;
}

/**
 * A real HTTP server that records every request and answers each through `respond` (default 200),
 * for webhook tests. `respond` may also misbehave on the raw response (hang, reset, huge body).
 */
export async function startReceiver(
  respond: (request: ReceivedRequest, index: number, response: http.ServerResponse) => number | 'handled' = () => 200,
): Promise<{ url: string; requests: ReceivedRequest[]; close(): Promise<void>; waitForRequests(count: number): Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' };
      requests.push(request);
      waiters.splice(0).forEach((wake) => wake());
      const status = respond(request, requests.length - 1, res);
      if (status !== 'handled') res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`answer ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    waitForRequests: async (count) => {
      const deadline = Date.now() + 30_000;
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${requests.length} of ${count} requests`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}
