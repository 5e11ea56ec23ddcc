/**
 * Every command the docs show (README.md and docs/*.md, test/helpers/doc-commands.ts finds them) is
 * run here against a real stack, or is in ALLOWLIST with the reason it is not: a curl call to the
 * API as written (its placeholders made real: a test key, a customer, a simulated deposit, a
 * webhook endpoint on loopback), `npm run cli -- …` and `npm run temporal -- …` pointed at the
 * stack. A command the docs gain that is neither run nor listed fails, as does a listed one the
 * docs no longer have.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDevnet } from '../../dev/devnet/devnet';
import { testHealthToken, testSecretKeyHex } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { useApiStack } from '../helpers/api-stack';
import { classify, documentedCommands, extractCommands, repoRoot, shellWords, type DocCommand } from '../helpers/doc-commands';
import { startReceiver } from '../helpers/receiver';
import { ScriptProcess } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';

/** Commands not run, each with why: reviewed, one line each. A doc edit to one of them brings it back for review. */
const ALLOWLIST: Record<string, string> = {
  'npm install': 'installs dependencies: the test runs in an installed tree',
  'npm run dev': 'starts the whole development stack; dev-stack.test.ts runs it',
  'INFLOW_DEV_LIVE=on npm run dev': 'starts the whole development stack with a devnet-only live mode; dev-stack.test.ts runs it so',
  'npm test': 'the whole suite, of which this test is part',
  'npm run prod:local': 'starts a multi-process production-like stack; topology tests cover it',
  'kill -9 <pid of worker-1>': "an operator's signal to a prod:local worker, <pid> to fill in",
  'kill <pid of worker-1>': "an operator's signal to a prod:local worker, <pid> to fill in",
  'for i in 1 2 3 4 5 6; do': 'the loop around a curl that is run on its own',
  done: 'the loop around a curl that is run on its own',
  'INFLOW_DEV_DATA_DIR=.data/prod-local npm run cli -- devnet send --to 0x… --amount 25 --currency USDT':
    "sends on prod:local's anvil devnet, which this stack does not run",
  'npm run cli -- sweep --now':
    'needs a signer and a funded gas wallet, which this stack does not run; sweeps.test.ts runs it as written on anvil with the real signer',
  'npm run cli -- sweep --now --network tron':
    'needs a signer and a staked Tron gas wallet, which this stack does not run; sweeps.test.ts runs the command on anvil, tron-sweeps.test.ts runs its workflow on the Tron stand-in',
  'curl -s localhost:3000/api/v1/payouts -H "Authorization: Bearer $KEY" -H "Idempotency-Key: withdrawal-2026-12-07" -H \'Content-Type: application/json\' -d \'{"network":"ethereum","currency":"USDT","amount":"10","destination":"0x…","external_id":"withdrawal-1"}\'':
    'a payout needs the signer, a funded hot wallet on anvil and the authorisation secret, which this stack does not run; payouts.test.ts makes payouts through the API on anvil with the real signer',
  'curl -s localhost:3000/api/v1/deposits/dep_…/refunds -H "Authorization: Bearer $KEY" -H \'Content-Type: application/json\' -d \'{"destination":"0x…customer…"}\'':
    'a refund is a payout: payouts.test.ts refunds a deposit through the API on anvil with the real signer',
  'npm run cli -- devnet send --network ethereum --to <the treasury printed at start> --amount 100 --currency USDT':
    'needs the anvil devnet, which this stack does not run',
  'npm run cli -- reconcile': "reads the treasury's addresses from a signer, which this stack does not run; sweeps.test.ts runs it as written on anvil",
  'npm run cli -- devnet receive --port 4000': 'a long-running receiver on a fixed port; listen.test.ts runs devnet receive',
  'npm run cli -- listen --forward-to http://127.0.0.1:4000/webhooks [--events deposit.*,order.completed] [--api-key sk_test_…] [--signature-format python_json_dumps] [--rotate-secret]':
    'a synopsis with optional parts, not a command',
  'npm run cli -- trigger deposit.completed [--network arbitrum] [--currency USDT] [--api-key sk_test_…]': 'a synopsis with optional parts, not a command',
  'npm run cli -- devnet send --to 0x…order address… --amount 54.000001 --currency USDT': 'needs the anvil devnet, which this stack does not run',
  "npm run temporal -- workflow metadata -w 'deposit:live:ethereum:0x…:0'":
    "a live on-chain deposit's workflow id; this stack makes test-mode simulated deposits only",
  'npm run temporal -- schedule describe --schedule-id purge-idempotency-keys':
    "this stack's worker makes no maintenance schedules (one id on the shared dev server); maintenance.test.ts makes and reads it",
  'npm run temporal -- schedule trigger --schedule-id purge-idempotency-keys': "acts on the run's shared Temporal dev server, which other test files use",
  'npm run temporal -- schedule toggle --schedule-id purge-idempotency-keys --pause --reason "…"':
    "pauses a schedule on the run's shared Temporal dev server, which other test files use",
};

/** Documented error examples: what they answer instead of success. */
const EXPECTED_FAILURES: Record<string, { code: number; output: RegExp }> = {
  'npm run cli listen --forward-to http://127.0.0.1:4000/webhooks': { code: 1, output: /npm kept --forward-to for itself/ },
};

/** Commands that run until ^C: run as written until they print this, then stopped as a terminal's ^C does. */
const UNTIL_READY: Record<string, RegExp> = {
  // Waiting for deposit.completed takes 40 simulated confirmations (~40 s here); what it made is made by then.
  'npm run cli -- trigger deposit.completed': /simulated deposit dep_\w+: 25\.000000 USDT on arbitrum[^]*waiting for deposit\.completed/,
  'npm run cli -- listen --forward-to http://127.0.0.1:4000/webhooks': /Ready! Your webhook signing secret is whsec_\S+ \(\^C to quit\)/,
};

const { commands, assignments } = documentedCommands();
/** Each distinct command once, with every place the docs write it. */
const distinct = [...new Map(commands.map((command) => [command.text, command])).values()].map((command) => ({
  ...command,
  where: commands
    .filter((other) => other.text === command.text)
    .map((other) => other.where)
    .join(', '),
}));
const runnable = distinct.filter((command) => command.kind !== 'other' && !(command.text in ALLOWLIST));

interface Fixtures {
  baseUrl: string;
  key: string;
  vars: Record<string, string>;
  placeholders: Array<[RegExp, string]>;
  receiverUrl: string;
  env: Record<string, string>;
}

const run = (file: string, args: string[], options: { env?: Record<string, string>; timeout: number }) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { cwd: repoRoot, env: options.env, timeout: options.timeout, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.replace(/^npm warn.*\n/gm, '') });
    });
  });

/** The command's words with its variables and `…` placeholders made real; an unresolved one throws. */
function resolveWords(command: DocCommand, fixtures: Fixtures): string[] {
  const words = shellWords(command.text, fixtures.vars).map((word) =>
    fixtures.placeholders.reduce((resolved, [pattern, value]) => resolved.replace(pattern, value), word),
  );
  const unresolved = words.find((word) => word.includes('…'));
  if (unresolved) throw new Error(`${command.where}: cannot fill in "${unresolved}": make it real here, or allowlist it with a reason`);
  return words;
}

/** Runs one documented command; resolves to what went wrong, or null. */
async function runDocCommand(command: DocCommand, fixtures: Fixtures): Promise<string | null> {
  const words = resolveWords(command, fixtures);
  if (command.kind === 'curl') {
    let stream = false;
    const args = words.slice(1).map((word, index, all) => {
      if (word === '-N') stream = true;
      // The API the docs address (npm run dev's, prod:local's) is this stack's.
      const url = word.replace(/^(http:\/\/)?localhost:30\d\d(?=\/)/, fixtures.baseUrl);
      if (url !== word) return url;
      if (all[index - 1] === '-d' && word.startsWith('{')) {
        // A URL the docs have the API call (a webhook endpoint, an order's callback) is this test's receiver on loopback.
        const body = JSON.parse(word) as Record<string, unknown>;
        for (const field of ['url', 'callback_url']) if (typeof body[field] === 'string') body[field] = fixtures.receiverUrl;
        return JSON.stringify(body);
      }
      return word;
    });
    for (const word of args) {
      if (/^https?:\/\//.test(word) && !word.startsWith(fixtures.baseUrl)) return `${command.where}: would call ${word}, not this stack`;
    }
    const answer = await run('curl', [...args, '-sS', '-w', '\n%{http_code}', '--max-time', stream ? '2' : '20'], { timeout: 30_000 });
    const status = Number(answer.stdout.slice(answer.stdout.lastIndexOf('\n') + 1));
    // A stream (-N) is cut after 2 s (curl's 28), having answered.
    const ok = status >= 200 && status < 300 && (answer.code === 0 || (stream && answer.code === 28));
    return ok ? null : `${command.where}: ${command.text}\n→ HTTP ${status} (curl exit ${answer.code}): ${answer.stdout.slice(0, 500)} ${answer.stderr}`;
  }
  const ready = UNTIL_READY[command.text];
  if (ready) {
    const process = new ScriptProcess(words, fixtures.env);
    let timer: NodeJS.Timeout | undefined;
    const failure = await Promise.race([
      process.waitForOutput(ready).then(
        () => null,
        (error: Error) => `${command.where}: ${command.text}\n→ ${error.message}`,
      ),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`${command.where}: ${command.text}\n→ did not print ${ready} in 30 s:\n${process.stdout}\n${process.stderr}`), 30_000);
      }),
    ]);
    clearTimeout(timer);
    try {
      process.signal('SIGINT');
    } catch {
      // It has exited already.
    }
    await process.exited;
    return failure;
  }
  const answer = await run(words[0]!, words.slice(1), { env: fixtures.env, timeout: 50_000 });
  const expected = EXPECTED_FAILURES[command.text];
  const output = `${answer.stdout}\n${answer.stderr}`;
  if (expected ? answer.code === expected.code && expected.output.test(output) : answer.code === 0) return null;
  return `${command.where}: ${command.text}\n→ exit ${answer.code}${expected ? ` (documented: ${expected.code}, ${expected.output})` : ''}:\n${output.slice(-1500)}`;
}

describe('the extractor and the runner', () => {
  const sample = [
    '```sh',
    'KEY=sk_test_…   # the key',
    'curl -s http://localhost:3000/api/v1/customerz -H "Authorization: Bearer $KEY" \\',
    '  -d \'{"a":"b # not a comment"}\'   # a comment',
    'npm install && make deploy &',
    '```',
    '```',
    '$ npm run temporal -- workflow list',
    'output, not a command',
    '```',
    '```',
    'npm run cli -- trigger deposit.completed',
    "DepositId = 'dep_…'",
    '```',
    '```json',
    'curl -s http://not-a-shell-block',
    '```',
  ].join('\n');

  it('splits blocks into commands, assignments apart, and classifies them', () => {
    const { commands: found, assignments: assigned } = extractCommands(sample, 'x.md');
    expect(assigned).toEqual([{ where: 'x.md:2', name: 'KEY', value: 'sk_test_…' }]);
    expect(found.map(({ where, text, kind }) => [where, kind, text])).toEqual([
      ['x.md:3', 'curl', 'curl -s http://localhost:3000/api/v1/customerz -H "Authorization: Bearer $KEY" -d \'{"a":"b # not a comment"}\''],
      ['x.md:5', 'other', 'npm install'],
      ['x.md:5', 'other', 'make deploy'],
      ['x.md:8', 'temporal', 'npm run temporal -- workflow list'],
      ['x.md:12', 'cli', 'npm run cli -- trigger deposit.completed'],
    ]);
    expect(shellWords(found[0]!.text, { KEY: 'sk' })).toEqual([
      'curl',
      '-s',
      'http://localhost:3000/api/v1/customerz',
      '-H',
      'Authorization: Bearer sk',
      '-d',
      '{"a":"b # not a comment"}',
    ]);
    expect(shellWords(String.raw`a "{\"x\":\"$V\"}" 'q $V' b\ c`, { V: 'v' })).toEqual(['a', '{"x":"v"}', 'q $V', 'b c']);
    expect(() => shellWords('echo $NOPE')).toThrow('no value for $NOPE');
    expect(classify('INFLOW_DEV_DATA_DIR=x npm run cli -- devnet send')).toBe('other');
  });

  it('a new command nobody classified fails the allowlist check', () => {
    const unknown = extractCommands(sample, 'x.md').commands.filter((command) => command.kind === 'other' && !(command.text in ALLOWLIST));
    expect(unknown.map((command) => command.text)).toEqual(['make deploy']);
  });
});

describe('every command in the docs', () => {
  const stack = useApiStack('docs-commands');
  const fixtures = {} as Fixtures;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let devnet: Awaited<ReturnType<typeof startDevnet>> | undefined;

  beforeAll(async () => {
    receiver = await startReceiver();
    const key = stack.acme.test_key;
    const post = async (apiPath: string, json: unknown) => {
      const response = await stack.api.request(`/api/v1${apiPath}`, { method: 'POST', key, json });
      expect(response.status).toBe(200);
      return (await response.json()) as any;
    };
    const customer = await post('/customers', { email: 'docs@example.com' });
    const deposit = await post('/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '10' });
    const endpoint = await post('/webhook-endpoints', { url: receiver.url, events: ['*'] });
    const address = customer.addresses.find((one: { network: string }) => one.network === 'ethereum').address as string;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-docs-'));
    // The devnets `npm run dev` runs (anvil and the Tron stand-in), in the CLI's dev data directory,
    // so that `devnet send` and `chain rescan` run as written: fast blocks, nothing of inflow's watching them.
    devnet = await startDevnet({ dataDir, port: await freePort(), tronPort: await freePort(), blockTimeSeconds: 0.2 });
    const tronAddress = customer.addresses.find((one: { network: string }) => one.network === 'tron').address as string;
    Object.assign(fixtures, {
      baseUrl: stack.api.baseUrl,
      key,
      vars: { KEY: key, CUSTOMER: customer.id, DEPOSIT: deposit.id, ADDRESS: address, INFLOW_HEALTH_TOKEN: testHealthToken },
      placeholders: [
        [/sk_test_…/g, key],
        [/cus_…/g, customer.id],
        [/dep_…/g, deposit.id],
        [/we_…/g, endpoint.id],
        // A whole word only: `0x…order address…` stays a placeholder nobody fills in.
        [/^0x…$/, address],
        [/^T…$/, tronAddress],
      ],
      receiverUrl: receiver.url,
      // The CLI and the Temporal CLI as a developer runs them, pointed at this stack (an empty dev
      // data directory: never a running `npm run dev`'s).
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        INFLOW_DEV_DATA_DIR: dataDir,
        INFLOW_API_URL: `${stack.api.baseUrl}/api/v1`,
        INFLOW_API_KEY: key,
        DATABASE_URL: stack.database.url,
        INFLOW_SECRET_KEY: testSecretKeyHex,
        TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
        TEMPORAL_NAMESPACE: stack.inflow.temporal.namespace,
        // As `npm run dev`'s dev-stack.json gives the CLI: the devnet as the watched test-mode ethereum.
        INFLOW_RPC_URL_ETHEREUM_TEST: devnet.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: devnet.usdtAddress,
      },
    } satisfies Fixtures);
  });

  afterAll(async () => {
    await receiver?.close();
    await devnet?.stop();
  });

  it('are found, and each is run here or allowlisted with a reason', () => {
    expect(distinct.length).toBeGreaterThan(30);
    expect(distinct.filter((command) => command.kind === 'other' && !(command.text in ALLOWLIST)).map((c) => `${c.where}: ${c.text}`)).toEqual([]);
    // A listed command the docs no longer have is a stale entry.
    expect(Object.keys(ALLOWLIST).filter((text) => !distinct.some((command) => command.text === text))).toEqual([]);
    expect(Object.keys(UNTIL_READY).filter((text) => !runnable.some((command) => command.text === text))).toEqual([]);
    expect(Object.keys(EXPECTED_FAILURES).filter((text) => !runnable.some((command) => command.text === text))).toEqual([]);
    // Every variable the docs assign is one this test gives a value.
    expect([...new Set(assignments.map((assignment) => assignment.name))].sort()).toEqual(['ADDRESS', 'CUSTOMER', 'DEPOSIT', 'KEY']);
  });

  it.each(runnable.filter((command) => command.kind === 'curl').map((command) => [command.where, command]))('curl %s answers 2xx', async (_where, command) => {
    expect(await runDocCommand(command, fixtures)).toBeNull();
  });

  it('the curl calls created webhook endpoints and callbacks on loopback only, and delivered to them', async () => {
    const response = await stack.api.request('/api/v1/webhook-endpoints?limit=100', { key: fixtures.key });
    const endpoints = ((await response.json()) as { data: Array<{ url: string }> }).data;
    expect(endpoints.length).toBeGreaterThan(1);
    expect(endpoints.filter((endpoint) => endpoint.url !== receiver.url)).toEqual([]);
    await receiver.waitForRequests(1);
  });

  it.each(runnable.filter((command) => command.kind !== 'curl').map((command) => [command.where, command]))(
    '%s runs as written',
    async (_where, command) => {
      expect(await runDocCommand(command, fixtures)).toBeNull();
    },
    60_000,
  );

  it('a wrong documented command fails: a wrong path, a CLI typo', async () => {
    const wrongPath = extractCommands('```sh\ncurl -s http://localhost:3000/api/v1/customerz -H "Authorization: Bearer $KEY"\n```', 'broken.md').commands[0]!;
    expect(await runDocCommand(wrongPath, fixtures)).toMatch(/^broken\.md:2: .*\n→ HTTP 404/);
    const wrongCli = extractCommands('```sh\nnpm run cli -- merchant creat --name Shop\n```', 'broken.md').commands[0]!;
    expect(await runDocCommand(wrongCli, fixtures)).toMatch(/^broken\.md:2: .*\n→ exit [1-9]/);
    const unresolved = extractCommands('```sh\ncurl -s http://localhost:3000/api/v1/orders/ord_… -H "Authorization: Bearer $KEY"\n```', 'broken.md')
      .commands[0]!;
    await expect(runDocCommand(unresolved, fixtures)).rejects.toThrow('cannot fill in');
  });
});
