import crypto from 'node:crypto';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { useApiStack } from '../helpers/api-stack';
import { waitFor } from '../helpers/wait';

/**
 * Issue 29: both of the first seed's (TotoPay's) verification samples, copied as they are, verify
 * real deliveries, each with its endpoint setting. The Python sample (`json.dumps(request.json)`)
 * runs as a real Python process behind a real HTTP receiver (test/fixtures/totopay_webhook.py); the
 * Node sample (`JSON.stringify(req.body)`) behind a real HTTP server here. Real API, worker, Postgres
 * and Temporal dev server.
 */

// The seed's Node sample, copied as the seed writes it (with types, and as an import rather than `require`).
function verifyWebhook(payload: unknown, signature: string, secret: string) {
  const expected = crypto.createHmac('sha256', secret).update(JSON.stringify(payload)).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

interface Outcome {
  webhookId: string;
  event: string;
  valid: boolean;
  status: number;
}

interface PythonOutcome {
  webhook_id: string;
  event: string;
  valid: boolean;
  status: number;
  body: string;
  headers: Record<string, string>;
  dumps: string;
  error?: string;
}

/** The seed's Express handler on node:http: express.json() makes `req.body` JSON.parse of the raw body. */
async function startSeedNodeReceiver() {
  const outcomes: Outcome[] = [];
  const confirmed: string[] = [];
  const state = { secret: '' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const send = (status: number, text: string) => {
        outcomes.push({ webhookId: String(req.headers['webhook-id']), event: body.event, valid: status === 200, status });
        res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' }).end(text);
      };
      try {
        // The seed's handler, line for line (its console.log of a completed deposit is recorded instead).
        const sig = req.headers['x-webhook-signature'] as string;
        if (!verifyWebhook(body, sig, state.secret)) {
          return send(400, 'Invalid signature');
        }
        const { event, data } = body;
        if (event === 'deposit.completed') {
          confirmed.push(data.transaction_hash);
        }
        send(200, 'OK');
      } catch {
        // What Express answers when a handler throws (timingSafeEqual throws on a missing or short signature).
        send(500, 'Internal Server Error');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/totopay`,
    outcomes,
    confirmed,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const pythonFixture = path.join(__dirname, '../fixtures/totopay_webhook.py');

/** The seed's Python handler as a real process on a free loopback port; `useSecret` hands it the endpoint's secret once it exists. */
async function startSeedPythonReceiver() {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [pythonFixture], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop()!;
    lines.push(...complete);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('exit', () => (exited = true));
  await waitFor('the Python receiver printing its port', async () => lines.length > 0 || exited, 10_000);
  if (exited) throw new Error(`the Python receiver exited: ${stderr}`);
  const port = Number(lines[0]);
  return {
    url: `http://127.0.0.1:${port}/webhooks/totopay`,
    useSecret: (secret: string) => child.stdin.write(`${secret}\n`),
    /** One per request, in arrival order. */
    outcomes: (): PythonOutcome[] =>
      lines
        .slice(1)
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line)),
    /** What the seed's own print wrote. */
    printed: () => lines.slice(1).filter((line) => !line.startsWith('{')),
    stderr: () => stderr,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await closed;
    },
  };
}

type PythonReceiver = Awaited<ReturnType<typeof startSeedPythonReceiver>>;
type NodeReceiver = Awaited<ReturnType<typeof startSeedNodeReceiver>>;

// Text the API stores as it is (it refuses only NUL and unpaired surrogates): non-ASCII, beyond the
// BMP, quotes, backslashes, control characters (DEL and C1 too), separators JSON.stringify leaves raw.
const tricky = 'Zoë Müller "Q" \\ 中文 💸 \u{10FFFF} tab\there\nline \u0001\u001f\u007f\u0080 \u2028\u2029 \ufeff\uffff /';

describe('TotoPay seed samples verify real deliveries (real worker, Temporal dev server, Postgres, Python and Node receivers)', () => {
  const stack = useApiStack('totopay-signatures');
  const pythons: PythonReceiver[] = [];
  const nodes: NodeReceiver[] = [];

  const call = async (method: string, path: string, json?: unknown) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key: stack.acme.test_key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const python = async () => {
    const receiver = await startSeedPythonReceiver();
    pythons.push(receiver);
    return receiver;
  };
  const node = async () => {
    const receiver = await startSeedNodeReceiver();
    nodes.push(receiver);
    return receiver;
  };
  const createEndpoint = async (body: Record<string, unknown>) => {
    const created = await call('POST', '/webhook-endpoints', body);
    expect(created.status).toBe(200);
    return created.body;
  };

  afterAll(async () => {
    await Promise.all([...pythons.map((receiver) => receiver.stop()), ...nodes.map((receiver) => receiver.close())]);
  });

  it("accepts every python_json_dumps delivery with the seed's Python, which refuses compact ones, and every compact one with the seed's Node", async () => {
    const [dumpsReceiver, compactReceiver, nodeReceiver] = await Promise.all([python(), python(), node()]);
    const dumpsEndpoint = await createEndpoint({
      url: dumpsReceiver.url,
      events: ['*'],
      description: `python ${tricky}`,
      x_webhook_signature_format: 'python_json_dumps',
    });
    expect(dumpsEndpoint.x_webhook_signature_format).toBe('python_json_dumps');
    dumpsReceiver.useSecret(dumpsEndpoint.secret);
    const compactEndpoint = await createEndpoint({ url: compactReceiver.url, events: ['*'], description: `compact ${tricky}` });
    expect(compactEndpoint.x_webhook_signature_format).toBe('compact');
    compactReceiver.useSecret(compactEndpoint.secret);
    const nodeEndpoint = await createEndpoint({ url: nodeReceiver.url, events: ['*'], description: `node ${tricky}`, x_webhook_signature_format: 'compact' });
    expect(nodeEndpoint.x_webhook_signature_format).toBe('compact');
    nodeReceiver.state.secret = nodeEndpoint.secret;

    // The deposit first: its confirmations take the longest.
    const plain = (await call('POST', '/customers', { email: 'plain@example.com', metadata: {} })).body;
    expect(plain.metadata).toEqual({});
    const deposit = await call('POST', '/deposits/simulate', { customer_id: plain.id, network: 'ethereum', currency: 'USDC', amount: '25.5' });
    expect(deposit.status).toBe(200);

    const customers = [
      {
        name: tricky,
        email: "o'brien+tag@example.com",
        external_id: `ext "${tricky}"`,
        metadata: { [`clé "ü" 💸`]: tricky, 'back\\slash\t': '\\"\\u0041"', '10': 'ten', '2': '中文' },
      },
      { name: 'Ünïcødé only 中文 ✓', metadata: { 'emoji 😀🎉': '👩‍👩‍👧 family', nested: '{"json": ["in", "text"]}' } },
      { name: 'Control\u0001\u0002\u0003\u0008\u000b\u000c\u000e\u001b end', metadata: {} },
    ];
    const created: any[] = [];
    for (const body of customers) {
      const response = await call('POST', '/customers', body);
      expect(response.status).toBe(200);
      created.push(response.body);
    }
    // What the API stored is what was sent (trimmed only at the ends): the characters reach the events.
    expect(created.map((customer) => [customer.name, customer.metadata])).toEqual(customers.map((body) => [body.name, body.metadata]));
    // customer.updated: a merge, a key removed, a key added.
    const updated = await call('PATCH', `/customers/${created[0].id}`, { metadata: { '10': '', 'new\u2028line': `"${tricky}"` } });
    expect(updated.status).toBe(200);

    const pings = new Map<string, string>();
    for (const endpoint of [dumpsEndpoint, compactEndpoint, nodeEndpoint]) {
      const ping = await call('POST', `/webhook-endpoints/${endpoint.id}/test`);
      expect(ping.status).toBe(200);
      pings.set(endpoint.id, ping.body.id);
    }

    const listEvents = async (): Promise<Array<{ id: string; event: string }>> => (await call('GET', '/events?limit=100')).body.data;
    await waitFor('deposit.completed', async () => (await listEvents()).some((event) => event.event === 'deposit.completed'), 30_000);
    const events = await listEvents();
    const shared = events.filter((event) => event.event !== 'ping').map((event) => event.id);
    expect(events.filter((event) => event.event !== 'ping').map((event) => event.event)).toEqual(
      expect.arrayContaining(['customer.created', 'customer.updated', 'deposit.detected', 'deposit.completed']),
    );
    const expected = (endpoint: { id: string }) => [...shared, pings.get(endpoint.id)!].sort();
    const seen = (outcomes: Array<{ webhookId?: string; webhook_id?: string }>) => new Set(outcomes.map((outcome) => outcome.webhookId ?? outcome.webhook_id));
    const sawAll = (outcomes: Array<{ webhookId?: string; webhook_id?: string }>, endpoint: { id: string }) =>
      expected(endpoint).every((id) => seen(outcomes).has(id));
    await waitFor(
      'every event at every receiver',
      async () =>
        sawAll(dumpsReceiver.outcomes(), dumpsEndpoint) && sawAll(compactReceiver.outcomes(), compactEndpoint) && sawAll(nodeReceiver.outcomes, nodeEndpoint),
      20_000,
    );

    // python_json_dumps: the seed's Python accepts each delivery, the first time.
    const dumpsOutcomes = dumpsReceiver.outcomes();
    expect(dumpsOutcomes.filter((outcome) => !outcome.valid).map(({ event, status, error, dumps }) => ({ event, status, error, dumps }))).toEqual([]);
    expect([...seen(dumpsOutcomes)].sort()).toEqual(expected(dumpsEndpoint));
    expect(dumpsOutcomes).toHaveLength(expected(dumpsEndpoint).length);
    // Its print of the completed deposit, as the seed writes it.
    expect(dumpsReceiver.printed()).toEqual([`Deposit confirmed: ${(await call('GET', `/deposits/${deposit.body.id}`)).body.transaction_hash}`]);
    for (const outcome of dumpsOutcomes) {
      // The body is the same compact JSON as any endpoint's, and the Standard Webhooks headers verify on it.
      expect(JSON.stringify(JSON.parse(outcome.body))).toBe(outcome.body);
      expect(new Webhook(dumpsEndpoint.secret).verify(outcome.body, outcome.headers)).toEqual(JSON.parse(outcome.body));
    }
    // The characters arrived as sent, so Python's escaping of each of them was met.
    const createdTricky = JSON.parse(
      dumpsOutcomes.find((outcome) => outcome.event === 'customer.created' && JSON.parse(outcome.body).data.id === created[0].id)!.body,
    );
    expect(createdTricky.data).toMatchObject({ name: tricky, metadata: customers[0]!.metadata });
    const plainCreated = dumpsOutcomes.find((outcome) => outcome.event === 'customer.created' && JSON.parse(outcome.body).data.id === plain.id)!;
    expect(JSON.parse(plainCreated.body).data.metadata).toEqual({});
    expect(plainCreated.dumps).toContain('"metadata": {}');
    // Python's escapes of each, in the ping (whose data holds the description) it accepted.
    const pingDumps = dumpsOutcomes.find((outcome) => outcome.webhook_id === pings.get(dumpsEndpoint.id))!.dumps;
    for (const needle of [
      '\\u00eb',
      '\\u4e2d\\u6587',
      '\\ud83d\\udcb8',
      '\\udbff\\udfff',
      '\\"Q\\"',
      '\\\\',
      '\\t',
      '\\n',
      '\\u0001',
      '\\u007f',
      '\\u0080',
      '\\u2028',
      '\\ufeff',
      '\\uffff',
    ]) {
      expect(pingDumps).toContain(needle);
    }

    // compact: the seed's Python refuses every delivery with its 400 (json.dumps's ", " and ": "
    // separators alone differ from the compact body, before any character is escaped).
    const compactOutcomes = compactReceiver.outcomes();
    expect(compactOutcomes.filter((outcome) => outcome.status !== 400 || outcome.valid)).toEqual([]);
    expect([...seen(compactOutcomes)].sort()).toEqual(expected(compactEndpoint));

    // compact: the seed's Node accepts every delivery, the first time, the completed deposit included.
    expect(nodeReceiver.outcomes.filter((outcome) => !outcome.valid)).toEqual([]);
    expect(nodeReceiver.outcomes).toHaveLength(expected(nodeEndpoint).length);
    expect(nodeReceiver.confirmed).toHaveLength(1);

    // The endpoints show their format.
    expect((await call('GET', `/webhook-endpoints/${dumpsEndpoint.id}`)).body.x_webhook_signature_format).toBe('python_json_dumps');
    expect((await call('GET', `/webhook-endpoints/${compactEndpoint.id}`)).body.x_webhook_signature_format).toBe('compact');
    const listed = (await call('GET', '/webhook-endpoints?limit=100')).body.data;
    expect(Object.fromEntries(listed.map((endpoint: any) => [endpoint.id, endpoint.x_webhook_signature_format]))).toMatchObject({
      [dumpsEndpoint.id]: 'python_json_dumps',
      [compactEndpoint.id]: 'compact',
      [nodeEndpoint.id]: 'compact',
    });
    // The ping's data is the endpoint as it is shown, format included.
    expect(JSON.parse(dumpsOutcomes.find((outcome) => outcome.webhook_id === pings.get(dumpsEndpoint.id))!.body).data).toMatchObject({
      id: dumpsEndpoint.id,
      description: `python ${tricky}`,
      x_webhook_signature_format: 'python_json_dumps',
    });
  });

  it('switches the format on PATCH: the next delivery verifies with the sample of the new one', async () => {
    const [pythonReceiver, nodeReceiver] = await Promise.all([python(), node()]);
    // Subscribed to an event this test never makes: only the pings reach them.
    const toPython = await createEndpoint({ url: pythonReceiver.url, events: ['deposit.reversed'], description: tricky });
    pythonReceiver.useSecret(toPython.secret);
    const toNode = await createEndpoint({
      url: nodeReceiver.url,
      events: ['deposit.reversed'],
      description: tricky,
      x_webhook_signature_format: 'python_json_dumps',
    });
    nodeReceiver.state.secret = toNode.secret;

    const pingPython = async () => (await call('POST', `/webhook-endpoints/${toPython.id}/test`)).body.id as string;
    const pingNode = async () => (await call('POST', `/webhook-endpoints/${toNode.id}/test`)).body.id as string;
    const pythonOutcome = async (id: string) => {
      await waitFor(`the Python receiver's answer to ${id}`, async () => pythonReceiver.outcomes().some((outcome) => outcome.webhook_id === id));
      return pythonReceiver.outcomes().find((outcome) => outcome.webhook_id === id)!;
    };
    const nodeOutcome = async (id: string) => {
      await waitFor(`the Node receiver's answer to ${id}`, async () => nodeReceiver.outcomes.some((outcome) => outcome.webhookId === id));
      return nodeReceiver.outcomes.find((outcome) => outcome.webhookId === id)!;
    };

    // Before: each sample refuses the other format.
    expect(await pythonOutcome(await pingPython())).toMatchObject({ valid: false, status: 400 });
    expect(await nodeOutcome(await pingNode())).toMatchObject({ valid: false, status: 400 });

    const toDumps = await call('PATCH', `/webhook-endpoints/${toPython.id}`, { x_webhook_signature_format: 'python_json_dumps' });
    expect(toDumps.status).toBe(200);
    expect(toDumps.body).toMatchObject({ id: toPython.id, x_webhook_signature_format: 'python_json_dumps', description: tricky });
    const toCompact = await call('PATCH', `/webhook-endpoints/${toNode.id}`, { x_webhook_signature_format: 'compact' });
    expect(toCompact.body).toMatchObject({ id: toNode.id, x_webhook_signature_format: 'compact' });
    expect((await call('GET', `/webhook-endpoints/${toPython.id}`)).body.x_webhook_signature_format).toBe('python_json_dumps');

    // After: each verifies.
    const afterPython = await pingPython();
    expect(await pythonOutcome(afterPython)).toMatchObject({ valid: true, status: 200 });
    expect(JSON.parse((await pythonOutcome(afterPython)).body).data).toMatchObject({ x_webhook_signature_format: 'python_json_dumps' });
    expect(await nodeOutcome(await pingNode())).toMatchObject({ valid: true, status: 200 });

    // A PATCH that leaves the format out keeps it; one naming no format is refused, naming the field.
    expect((await call('PATCH', `/webhook-endpoints/${toPython.id}`, { description: 'kept' })).body.x_webhook_signature_format).toBe('python_json_dumps');
    const refused = await call('PATCH', `/webhook-endpoints/${toPython.id}`, { x_webhook_signature_format: 'python' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'x_webhook_signature_format' });
    expect((await call('POST', '/webhook-endpoints', { url: pythonReceiver.url, events: ['*'], x_webhook_signature_format: null })).body.error).toMatchObject({
      param: 'x_webhook_signature_format',
    });
  });
});
