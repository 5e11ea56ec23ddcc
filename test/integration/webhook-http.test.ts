import http from 'node:http';
import { postWebhook, RESPONSE_BODY_LIMIT } from '../../src/webhooks/http';
import { startReceiver } from '../helpers/receiver';

/** The POST against real receivers that misbehave: each is a failed attempt, and nothing more. */
describe('postWebhook against misbehaving receivers', () => {
  const body = JSON.stringify({ id: 'evt_x', object: 'event' });

  it('gives up on a receiver that never answers, at the deadline', async () => {
    const receiver = await startReceiver(() => 'handled');
    try {
      const result = await postWebhook(new URL(receiver.url), body, {}, { timeoutMs: 300 });
      expect(result).toMatchObject({ statusCode: null, error: 'no response within 0.3 s' });
      expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    } finally {
      await receiver.close();
    }
  });

  it('records a connection reset as an error', async () => {
    const receiver = await startReceiver((_request, _index, response) => {
      response.socket?.destroy();
      return 'handled';
    });
    try {
      expect(await postWebhook(new URL(receiver.url), body, {})).toMatchObject({ statusCode: null, error: expect.stringMatching(/socket hang up|ECONNRESET/) });
    } finally {
      await receiver.close();
    }
  });

  it('does not follow a redirect: a 3xx is the answer', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver((_request, _index, response) => {
      response.writeHead(307, { Location: target.url }).end();
      return 'handled';
    });
    try {
      expect(await postWebhook(new URL(redirecting.url), body, {})).toMatchObject({ statusCode: 307 });
      expect(target.requests).toHaveLength(0);
    } finally {
      await Promise.all([target.close(), redirecting.close()]);
    }
  });

  it('keeps only the first 1 KB of a 10 MB answer, without reading the rest', async () => {
    const receiver = await startReceiver((_request, _index, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('x'.repeat(10 * 1024 * 1024));
      return 'handled';
    });
    try {
      const result = await postWebhook(new URL(receiver.url), body, {});
      expect(result.statusCode).toBe(200);
      expect(result.responseBody).toHaveLength(RESPONSE_BODY_LIMIT);
    } finally {
      await receiver.close();
    }
  });

  it('reports a refused connection', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    expect(await postWebhook(new URL(`http://127.0.0.1:${port}/hook`), body, {})).toMatchObject({
      statusCode: null,
      error: expect.stringContaining('ECONNREFUSED'),
    });
  });
});
