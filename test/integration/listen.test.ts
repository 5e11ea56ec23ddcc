import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { writeDevStack } from '../../src/cli/dev-stack';
import { findEventById } from '../../src/events/events.repository';
import { redactApiKey } from '../../src/domain/api-keys';
import { generateWebhookSecret, hexSignature, signatureHeaders } from '../../src/domain/signatures';
import { freePort } from '../../dev/tools/ports';
import { eventObject } from '../../src/events/event.presenter';
import { USER_AGENT } from '../../src/webhooks/deliveries';
import { startTestApi } from '../helpers/api';
import { useApiStack } from '../helpers/api-stack';
import { startReceiver, type ReceivedRequest } from '../helpers/receiver';
import { lines, npmRun, ScriptProcess } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';

/**
 * `npm run cli -- listen` and `trigger` as a developer runs them, against the real API, worker and
 * Temporal dev server: found through a dev stack file, as `npm run dev` writes it, and forwarding
 * to a real receiver on loopback that checks each delivery as a merchant's server would.
 */
describe('npm run cli -- listen | trigger', () => {
  const stack = useApiStack('cli-listen');
  let dataDir: string;
  let devEnv: Record<string, string>;
  const running: ScriptProcess[] = [];

  const start = (args: string[], env: Record<string, string> = devEnv) => {
    const command = new ScriptProcess(['npm', 'run', '--silent', 'cli', '--', ...args], env);
    running.push(command);
    return command;
  };
  const secretOf = async (listen: ScriptProcess) => {
    await listen.waitForOutput(/Ready! Your webhook signing secret is whsec_\S+ \(\^C to quit\)/);
    return /Ready! Your webhook signing secret is (whsec_\S+) \(\^C to quit\)/.exec(listen.stdout)![1]!;
  };
  const bodyOf = (request: ReceivedRequest) => JSON.parse(request.rawBody) as { id: string; event: string; data: { id: string } };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-cli-'));
    const merchantFile = path.join(dataDir, 'dev-merchant.json');
    await writeFile(merchantFile, JSON.stringify({ merchant_id: stack.acme.merchant_id, test_key: stack.acme.test_key }));
    // As `npm run dev` writes it, naming this test's stack; this process stands in for npm run dev's.
    await writeDevStack(dataDir, {
      pid: process.pid,
      database_url: stack.database.url,
      api_url: `${stack.api.baseUrl}/api/v1`,
      temporal: { address: readTestEnv('temporalAddress'), namespace: 'default', task_queue: stack.taskQueue, ui_url: null },
      secret_key_file: null,
      merchant_file: merchantFile,
      chain_env: {},
    });
    devEnv = { INFLOW_DEV_DATA_DIR: dataDir };
  });

  afterEach(async () => {
    for (const listen of running.splice(0)) {
      try {
        listen.signal('SIGINT');
      } catch {
        // It has exited already.
      }
      await listen.exited;
    }
  });

  it('forwards deposit.completed of a simulated deposit exactly as a delivery, signed with the secret it printed', async () => {
    const receiver = await startReceiver();
    try {
      const listen = start(['listen', '--forward-to', receiver.url, '--events', 'deposit.*']);
      const secret = await secretOf(listen);
      expect(lines(listen.stderr)).toEqual([
        `inflow: API ${stack.api.baseUrl}/api/v1 (${dataDir}/dev-stack.json), key ${redactApiKey(stack.acme.test_key)} (${dataDir}/dev-merchant.json)`,
        expect.stringMatching(
          new RegExp(
            `^inflow: (a|the) signing secret of ${stack.acme.merchant_id} in test mode, kept in ${dataDir}/listen-secrets/${stack.acme.merchant_id}\\.test\\.json.*: the same at every start \\(--rotate-secret makes a new one\\)$`,
          ),
        ),
      ]);

      const customer = (await (await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} })).json()) as { id: string };
      const simulated = await stack.api.request('/api/v1/deposits/simulate', {
        method: 'POST',
        key: stack.acme.test_key,
        json: { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '25' },
      });
      const deposit = (await simulated.json()) as { id: string };
      await listen.waitForOutput(/deposit\.completed +evt_\w+ +\[200 OK\] \d+ ms/);

      const completed = receiver.requests.find((request) => bodyOf(request).event === 'deposit.completed')!;
      expect(bodyOf(completed).data.id).toBe(deposit.id);
      // What a registered endpoint gets: the same compact body, byte for byte, and the same headers.
      const stored = (await findEventById(stack.database.db, bodyOf(completed).id))!;
      expect(completed.rawBody).toBe(JSON.stringify(eventObject(stored)));
      expect(new Webhook(secret).verify(completed.rawBody, completed.headers as Record<string, string>)).toEqual(JSON.parse(completed.rawBody));
      expect(completed.headers).toMatchObject({
        'webhook-id': stored.id,
        'x-webhook-signature': hexSignature(completed.rawBody, secret),
        'user-agent': USER_AGENT,
        'content-type': 'application/json',
      });
      expect(completed.path).toBe('/hook');
      // Only the types asked for: the customer's customer.created was not forwarded.
      expect(receiver.requests.map((request) => bodyOf(request).event)).toEqual(['deposit.detected', 'deposit.confirming', 'deposit.completed']);
      const printed = lines(listen.stdout).slice(1);
      expect(printed).toHaveLength(3);
      expect(printed[2]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  deposit\\.completed +${stored.id}  \\[200 OK\\] \\d+ ms$`));
    } finally {
      await receiver.close();
    }
  });

  it("signs X-Webhook-Signature as json.dumps writes the payload with --signature-format python_json_dumps, which TotoPay's Python check verifies", async () => {
    const refused = await npmRun('cli', ['listen', '--forward-to', 'http://127.0.0.1:9/hook', '--signature-format', 'pretty'], devEnv);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--signature-format must be compact or python_json_dumps; got "pretty"');

    const receiver = await startReceiver();
    try {
      const listen = start(['listen', '--forward-to', receiver.url, '--events', 'customer.created', '--signature-format', 'python_json_dumps']);
      const secret = await secretOf(listen);
      await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: { name: 'Zoë "💸" \\ café' } });
      await receiver.waitForRequests(1);
      const [request] = receiver.requests;
      // The seed's verify_webhook, run by python3 on the body as received: HMAC of json.dumps(json.loads(body)).
      const script =
        'import hmac, hashlib, json, sys\nprint(hmac.new(sys.argv[1].encode(), json.dumps(json.loads(sys.stdin.read())).encode(), hashlib.sha256).hexdigest())';
      const expected = execFileSync('python3', ['-c', script, secret], { input: request!.rawBody, encoding: 'utf8' }).trim();
      expect(request!.headers['x-webhook-signature']).toBe(expected);
      expect(expected).not.toBe(hexSignature(request!.rawBody, secret));
      // The body and the Standard Webhooks headers are as ever.
      expect(new Webhook(secret).verify(request!.rawBody, request!.headers as Record<string, string>)).toEqual(JSON.parse(request!.rawBody));
    } finally {
      await receiver.close();
    }
  });

  it('prints the connection error when nothing answers at the URL, and a non-2xx status as it is', async () => {
    const receiver = await startReceiver(() => 500);
    const gone = await startReceiver();
    await gone.close();
    try {
      const failing = start(['listen', '--forward-to', receiver.url, '--events', 'customer.created']);
      const unreachable = start(['listen', '--forward-to', gone.url, '--events', 'customer.created']);
      await Promise.all([secretOf(failing), secretOf(unreachable)]);
      await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} });
      await failing.waitForOutput(/customer\.created +evt_\w+ +\[500 Internal Server Error\] \d+ ms/);
      await unreachable.waitForOutput(new RegExp(`customer\\.created +evt_\\w+ +\\[connect ECONNREFUSED ${new URL(gone.url).host}\\] \\d+ ms`));
      // Said at start, with what to run there: nothing listens at the URL yet.
      expect(unreachable.stderr).toContain(
        `inflow: nothing answers at ${new URL(gone.url).host} yet (connect ECONNREFUSED ${new URL(gone.url).host}): start your handler there, or \`npm run cli -- devnet receive --port ${new URL(gone.url).port}\`, which prints and verifies what arrives`,
      );
      expect(failing.stderr).not.toContain('nothing answers');
    } finally {
      await receiver.close();
    }
  });

  it('reconnects with Last-Event-ID when the stream drops, and forwards what happened meanwhile once', async () => {
    const receiver = await startReceiver();
    let api = await startTestApi({ db: stack.database.db, temporal: stack.dev.client });
    const port = Number(new URL(api.baseUrl).port);
    const createCustomer = async () =>
      ((await (await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} })).json()) as { id: string }).id;
    try {
      // Made before listen started, and within the window a resumed stream replays: never forwarded.
      await createCustomer();
      const listen = start(['listen', '--forward-to', receiver.url, '--api-key', stack.acme.test_key], {
        INFLOW_API_URL: `${api.baseUrl}/api/v1`,
        INFLOW_DEV_DATA_DIR: dataDir,
      });
      await secretOf(listen);
      expect(lines(listen.stderr)).toEqual([
        `inflow: API ${api.baseUrl}/api/v1 (env), key ${redactApiKey(stack.acme.test_key)} (--api-key)`,
        // The merchant GET /account names for the key (a fingerprint of the key from an API without it).
        expect.stringMatching(/^inflow: (a|the) signing secret of (mch_\w+|key_[0-9a-f]{16}) in test mode, kept in /),
      ]);
      const before = await createCustomer();
      await receiver.waitForRequests(1);

      await api.close();
      await listen.waitForOutput(/the event stream closed \(the API ended it\); reconnecting in 1 s/);
      const meanwhile = await createCustomer();
      api = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, port });
      await listen.waitForOutput(/reconnected, resuming after evt_\w+/);
      await waitFor('the event made while disconnected', async () => receiver.requests.some((request) => bodyOf(request).data.id === meanwhile));
      const after = await createCustomer();
      await waitFor('an event after the reconnection', async () => receiver.requests.some((request) => bodyOf(request).data.id === after));
      expect(receiver.requests.map((request) => bodyOf(request).data.id)).toEqual([before, meanwhile, after]);
    } finally {
      await api.close();
      await receiver.close();
    }
  });

  it('keeps one secret per merchant and mode: shown at every start, replaced by --rotate-secret, which the next start keeps', async () => {
    const receiver = await startReceiver();
    const secretFile = path.join(dataDir, 'listen-secrets', `${stack.acme.merchant_id}.test.json`);
    const run = async (args: string[] = []) => {
      const listen = start(['listen', '--forward-to', receiver.url, '--events', 'customer.created', ...args]);
      const secret = await secretOf(listen);
      listen.signal('SIGINT');
      await listen.exited;
      return { secret, stderr: lines(listen.stderr) };
    };
    try {
      const first = await run();
      const second = await run();
      expect(second.secret).toBe(first.secret);
      expect(second.stderr[1]).toMatch(
        new RegExp(`^inflow: the signing secret of ${stack.acme.merchant_id} in test mode, kept in ${secretFile} since \\d{4}-\\d\\d-\\d\\dT\\S+Z: the same`),
      );
      expect(JSON.parse(await readFile(secretFile, 'utf8'))).toMatchObject({ owner: stack.acme.merchant_id, mode: 'test', secret: first.secret });

      const rotated = await run(['--rotate-secret']);
      expect(rotated.secret).not.toBe(first.secret);
      expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(rotated.stderr[1]).toMatch(new RegExp(`^inflow: a new signing secret of ${stack.acme.merchant_id} in test mode, kept in ${secretFile}: the same`));
      expect((await run()).secret).toBe(rotated.secret);
    } finally {
      await receiver.close();
    }
  });

  it("devnet receive, started first as the README does, verifies each forward with listen's kept secret and refuses a forged one", async () => {
    const port = await freePort();
    const receive = start(['devnet', 'receive', '--port', String(port)]);
    await receive.waitForOutput(new RegExp(`listening on http://127\\.0\\.0\\.1:${port}/`));
    const listen = start(['listen', '--forward-to', `http://127.0.0.1:${port}/webhooks`, '--events', 'customer.created']);
    await secretOf(listen);
    expect(listen.stderr).not.toContain('nothing answers');
    const customer = (await (await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} })).json()) as { id: string };
    await listen.waitForOutput(/customer\.created +evt_\w+ +\[200 OK\] \d+ ms/);
    await receive.waitForOutput(
      new RegExp(`POST /webhooks — webhook-signature valid with listen's secret for ${stack.acme.merchant_id} \\(test mode\\)\\n.*"id":"${customer.id}"`),
    );

    // Signed with a secret it does not know: refused; with that secret given as --secret: valid.
    const other = generateWebhookSecret();
    const rawBody = JSON.stringify({ id: 'evt_forged', object: 'event', event: 'customer.created', data: {} });
    const headers = signatureHeaders({ messageId: 'evt_forged', timestampSeconds: Math.floor(Date.now() / 1000), rawBody, secrets: [other] });
    const post = (to: number) => fetch(`http://127.0.0.1:${to}/forged`, { method: 'POST', headers, body: rawBody });
    expect((await post(port)).status).toBe(200);
    await receive.waitForOutput(/POST \/forged — webhook-signature INVALID: no webhook-signature matches \(checked with/);
    const secondPort = await freePort();
    const withSecret = start(['devnet', 'receive', '--port', String(secondPort), '--secret', other]);
    await withSecret.waitForOutput(/listening on/);
    await post(secondPort);
    await withSecret.waitForOutput(/POST \/forged — webhook-signature valid with the --secret given/);
  });

  it('says to put -- after npm run cli (or npm run temporal) when npm kept the flags for itself', async () => {
    // As typed without `--`: npm takes --forward-to and --events as its own settings and hands the script `listen URL deposit.*`.
    const bare = new ScriptProcess(['npm', 'run', '--silent', 'cli', 'listen', '--forward-to', 'http://127.0.0.1:4000/hooks', '--events', 'deposit.*'], devEnv);
    expect(await bare.exited).toBe(1);
    expect(lines(bare.stderr)).toEqual([
      "inflow: npm kept --forward-to, --events for itself: npm passes a script's flags on only after `--`. Use `npm run cli -- listen …`, e.g. `npm run cli -- listen --forward-to … --events …`",
    ]);
    const send = new ScriptProcess(['npm', 'run', '--silent', 'cli', 'devnet', 'send', '--to', '0xabc', '--amount', '1'], devEnv);
    expect(await send.exited).toBe(1);
    expect(lines(send.stderr)).toEqual([expect.stringMatching(/^inflow: npm kept --to, --amount for itself: .* Use `npm run cli -- devnet send …`/)]);
    // The same for npm run temporal, before it looks for a Temporal or a CLI to run.
    const temporal = new ScriptProcess(['npm', 'run', '--silent', 'temporal', 'workflow', 'list', '--query', "DepositId = 'dep_x'"], devEnv);
    expect(await temporal.exited).toBe(1);
    expect(lines(temporal.stderr)).toEqual([
      "inflow: npm kept --query for itself: npm passes a script's flags on only after `--`. Use `npm run temporal -- workflow list …`, e.g. `npm run temporal -- workflow list --query …`",
    ]);
  });

  it('refuses a live key in one line, before connecting to anything', async () => {
    // Nothing listens on port 9 of loopback: the refusal must come first.
    const env = { INFLOW_API_URL: 'http://127.0.0.1:9/api/v1' };
    const refusal = `inflow: listen works in test mode only; refusing the live key ${redactApiKey(stack.acme.live_key)} (use a sk_test_ key)`;
    const flagged = await npmRun('cli', ['listen', '--forward-to', 'http://127.0.0.1:4000/hooks', '--api-key', stack.acme.live_key], env);
    expect([flagged.code, lines(flagged.stderr), flagged.stdout]).toEqual([1, [refusal], '']);
    const fromEnv = await npmRun('cli', ['listen', '--forward-to', 'http://127.0.0.1:4000/hooks'], { ...env, INFLOW_API_KEY: stack.acme.live_key });
    expect([fromEnv.code, lines(fromEnv.stderr)]).toEqual([1, [refusal]]);
    const triggered = await npmRun('cli', ['trigger', 'customer.created', '--api-key', stack.acme.live_key], env);
    expect([triggered.code, lines(triggered.stderr)]).toEqual([1, [refusal.replace('listen', 'trigger')]]);
  });

  it('says in one line when the API refuses the stream', async () => {
    const run = await npmRun('cli', ['listen', '--forward-to', 'http://127.0.0.1:4000/hooks', '--events', 'order.paid'], devEnv);
    expect(run.code).toBe(1);
    expect(lines(run.stderr).slice(1)).toEqual([
      "inflow: GET /events/stream answered 400: Invalid types: 'order.paid' matches no event type (e.g. deposit.*, customer.created, or *)",
    ]);
  });

  it('trigger deposit.completed makes a customer and a simulated deposit, and waits for the event', async () => {
    const run = await npmRun('cli', ['trigger', 'deposit.completed', '--network', 'ethereum'], devEnv);
    expect([run.code, run.stderr]).toEqual([0, expect.stringContaining(`inflow: API ${stack.api.baseUrl}/api/v1 (${dataDir}/dev-stack.json)`)]);
    const output = lines(run.stdout);
    expect(output.slice(0, 3)).toEqual([
      expect.stringMatching(/^created customer cus_\w+$/),
      expect.stringMatching(/^simulated deposit dep_\w+: 25\.000000 USDT on ethereum to 0x[0-9a-fA-F]{40}$/),
      'waiting for deposit.completed (after 12 simulated confirmations); ^C stops waiting, not what was made',
    ]);
    expect(output.at(-1)).toMatch(/^deposit\.completed evt_\w+ after \d+\.\d s$/);
    // Never silent while waiting: each event of what it made as it arrives, and where the deposit stands as that changes.
    const depositId = /deposit (dep_\w+)/.exec(output[1]!)![1]!;
    const progress = output.slice(3, -1);
    for (const line of progress) expect(line).toMatch(/^ +\+\d+\.\d s {2}\S/);
    expect(progress).toContainEqual(expect.stringMatching(new RegExp(`^ +\\+\\d+\\.\\d s  deposit\\.detected +evt_\\w+  \\(${depositId}\\)$`)));
    expect(progress).toContainEqual(expect.stringMatching(new RegExp(`^ +\\+\\d+\\.\\d s  deposit\\.confirming +evt_\\w+  \\(${depositId}\\)$`)));
    expect(progress).toContainEqual(expect.stringMatching(new RegExp(`^ +\\+\\d+\\.\\d s  ${depositId}: confirming, \\d+/12 confirmations$`)));
    const eventId = /^deposit\.completed (evt_\w+)/.exec(output.at(-1)!)![1]!;
    const event = (await (await stack.api.request(`/api/v1/events/${eventId}`, { key: stack.acme.test_key })).json()) as any;
    expect(event).toMatchObject({ event: 'deposit.completed', livemode: false, data: { id: /deposit (dep_\w+)/.exec(output[1]!)![1], status: 'completed' } });
  });

  it('trigger order.canceled makes an order and cancels it; deposit.reversed and unknown types are refused', async () => {
    const run = await npmRun('cli', ['trigger', 'order.canceled'], devEnv);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      expect.stringMatching(/^created order ord_\w+: 10\.000000 USDT on arbitrum to 0x[0-9a-fA-F]{40}, expires \S+$/),
      expect.stringMatching(/^canceled order ord_\w+$/),
      'waiting for order.canceled (at once); ^C stops waiting, not what was made',
      // The order's order.created, made on the way, as it arrived.
      expect.stringMatching(/^ +\+\d+\.\d s {2}order\.created +evt_\w+ {2}\(ord_\w+\)$/),
      expect.stringMatching(/^order\.canceled evt_\w+ after \d+\.\d s$/),
    ]);

    const reversed = await npmRun('cli', ['trigger', 'deposit.reversed'], devEnv);
    expect([reversed.code, lines(reversed.stderr)]).toEqual([
      1,
      ['deposit.reversed cannot be triggered: it needs a completed deposit taken off the chain by a reorganisation, which simulated deposits never are'],
    ]);
    const unknown = await npmRun('cli', ['trigger', 'order.paid'], devEnv);
    expect([unknown.code, lines(unknown.stderr)]).toEqual([
      1,
      [expect.stringMatching(/^"order\.paid" is not an event type that can be triggered: customer\.created, /)],
    ]);
  });
});
