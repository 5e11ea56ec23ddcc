import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcRequest {
  id: unknown;
  method: string;
  params: unknown[];
}

/**
 * A JSON-RPC proxy on loopback in front of `target` (batches too), standing for a provider's node
 * that lags, errs or sits on another fork. `intercept` answers a request itself (a result, or
 * `{ error }`), or returns undefined to pass it on; `forward` reaches the target.
 */
export async function startRpcProxy(
  target: string,
  intercept: (request: RpcRequest, forward: (request: RpcRequest) => Promise<any>) => unknown = () => undefined,
) {
  const forward = async (request: RpcRequest) =>
    (await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', ...request }) })).json();
  const answer = async (request: RpcRequest) => {
    const result = await intercept(request, forward);
    if (result === undefined) return forward(request);
    if (result && typeof result === 'object' && 'error' in result) return { jsonrpc: '2.0', id: request.id, ...result };
    return { jsonrpc: '2.0', id: request.id, result };
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const result = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
