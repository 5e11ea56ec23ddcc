import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { xpubsFromMnemonic } from '../../src/chains/derivation';
import { hashApiKey } from '../../src/domain/api-keys';
import { freePort } from '../../dev/tools/ports';
import { createTestDatabase, createEmptyDatabase, type TestDatabase } from '../helpers/database';
import { lines, npmRun, ScriptProcess } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';
import { testMnemonics, testSecretKey, testSecretKeyHex, testXpubEnv } from '../../dev/fixtures';
import { SecretKeyError, unsealApiKey } from '../../src/merchants/sealed-keys';

describe('production entry points (npm run migrate | api | worker | cli)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      LOG_LEVEL: 'info',
      INFLOW_SECRET_KEY: testSecretKeyHex,
      ...testXpubEnv(),
    };
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it.each(['api', 'worker'])('%s fails fast in one line when DATABASE_URL is missing', async (script) => {
    const run = await npmRun(script, [], { TEMPORAL_ADDRESS: 'localhost:7233', INFLOW_SECRET_KEY: testSecretKeyHex });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(['inflow: missing environment variable DATABASE_URL (e.g. postgres://inflow:secret@localhost:5432/inflow)']);
  });

  it.each([
    ['api', []],
    ['worker', []],
    ['cli', ['merchant', 'create', '--name', 'Keyless']],
  ])('%s refuses to start without INFLOW_SECRET_KEY, which seals and opens the keys callbacks are signed with', async (script, args) => {
    const { INFLOW_SECRET_KEY: _secret, ...withoutSecret } = env;
    const run = await npmRun(script, args, withoutSecret);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^inflow: missing environment variable INFLOW_SECRET_KEY \(e\.g\. .*openssl rand -hex 32/)]);
    const short = await npmRun(script, args, { ...env, INFLOW_SECRET_KEY: 'abc123' });
    expect(lines(short.stderr)).toEqual([expect.stringMatching(/^inflow: INFLOW_SECRET_KEY must be 32 random bytes/)]);
  });

  it('api fails fast in one line when both addresses are missing', async () => {
    const run = await npmRun('api', [], {});
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^inflow: missing environment variables DATABASE_URL .*, TEMPORAL_ADDRESS /)]);
  });

  it('worker fails fast in one line when Postgres is unreachable', async () => {
    const port = await freePort();
    const run = await npmRun('worker', [], { ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/inflow` });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`inflow: cannot reach Postgres at 127.0.0.1:${port}/inflow: connect ECONNREFUSED 127.0.0.1:${port}`]);
  });

  // The API does not need Temporal to start (it queues workflow starts in Postgres): see outbox.test.ts.
  it('worker fails fast in one line when Temporal is unreachable or the namespace does not exist', async () => {
    const port = await freePort();
    const unreachable = await npmRun('worker', [], { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(unreachable.code).toBe(1);
    expect(lines(unreachable.stderr)).toEqual([expect.stringMatching(new RegExp(`^inflow: cannot reach Temporal at 127.0.0.1:${port}: `))]);

    const noNamespace = await npmRun('worker', [], { ...env, TEMPORAL_NAMESPACE: 'no-such-namespace' });
    expect(noNamespace.code).toBe(1);
    expect(lines(noNamespace.stderr)).toEqual([expect.stringMatching(/^inflow: Temporal at .* has no namespace "no-such-namespace"/)]);
  });

  it('migrate brings an empty database to the latest schema, then finds nothing to do', async () => {
    const url = await createEmptyDatabase();
    const first = await npmRun('migrate', [], { DATABASE_URL: url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/migrated: 20261121T0000-merchants-and-api-keys/);
    const second = await npmRun('migrate', [], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(lines(second.stdout)).toEqual(['database schema is up to date']);
  });

  it('cli merchant create --json prints the keys once and stores only their hashes', async () => {
    const run = await npmRun('cli', ['merchant', 'create', '--name', 'Acme Inc', '--json'], env);
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout) as Record<string, string>;
    expect(Object.keys(created).sort()).toEqual(['live_key', 'merchant_id', 'test_key']);
    expect(created.test_key).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(created.live_key).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    const merchant = await database.db.selectFrom('merchants').selectAll().where('id', '=', created.merchant_id!).executeTakeFirstOrThrow();
    expect(merchant.name).toBe('Acme Inc');
    const stored = await database.db.selectFrom('api_keys').select(['id', 'key_hash', 'sealed_key']).where('merchant_id', '=', created.merchant_id!).execute();
    expect(stored.map((row) => row.key_hash).sort()).toEqual([hashApiKey(created.test_key!), hashApiKey(created.live_key!)].sort());
    // No key in plaintext: each is kept sealed, and opens only with the server key and on its own row.
    for (const row of stored) {
      expect(row.sealed_key).not.toContain(created.test_key!.slice(8));
      expect(row.sealed_key).not.toContain(created.live_key!.slice(8));
      expect([created.test_key, created.live_key]).toContain(unsealApiKey(row.sealed_key!, testSecretKey, row.id));
      expect(() => unsealApiKey(row.sealed_key!, testSecretKey, 'key_elsewhere')).toThrow(SecretKeyError);
    }
  });

  it('cli keys xpub turns a mnemonic file into the xpub variables the API reads', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-keys-'));
    const file = path.join(dir, 'mnemonic.txt');
    await writeFile(file, `${testMnemonics.live}\n`);
    const run = await npmRun('cli', ['keys', 'xpub', '--mnemonic-file', file], {});
    expect(run.code).toBe(0);
    const live = xpubsFromMnemonic(testMnemonics.live);
    expect(lines(run.stdout)).toEqual([`INFLOW_XPUB_EVM_LIVE=${live.evm}`, `INFLOW_XPUB_TRON_LIVE=${live.tron}`]);
    expect(run.stdout).not.toContain('xprv');

    await writeFile(file, 'not a mnemonic at all');
    const bad = await npmRun('cli', ['keys', 'xpub', '--mnemonic-file', file, '--mode', 'test'], {});
    expect(bad.code).toBe(1);
    expect(lines(bad.stderr)).toEqual([`${file} does not hold a valid BIP-39 mnemonic`]);
  });

  it('api refuses to start without the xpubs of a mode, saying which', async () => {
    const { INFLOW_XPUB_EVM_LIVE: _evm, INFLOW_XPUB_TRON_LIVE: _tron, ...withoutLive } = env;
    const run = await npmRun('api', [], withoutLive);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      'inflow: live mode needs INFLOW_XPUB_EVM_LIVE and INFLOW_XPUB_TRON_LIVE (account-level xpubs; make them offline with `npm run cli -- keys xpub --mnemonic-file FILE`)',
    ]);
  });

  it('cli explains its usage when a command is wrong', async () => {
    const run = await npmRun('cli', ['merchant', 'create'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/merchant create needs --name/);
  });

  // As the containers run them: node itself, so SIGTERM reaches the process (npm would not pass it on).
  it('api serves /healthz and, on SIGTERM, finishes and exits 0', async () => {
    const port = await freePort();
    const api = new ScriptProcess(['node', '--import', 'tsx', 'src/api/server.ts'], { ...env, PORT: String(port) });
    await api.waitForOutput(/API listening/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    api.signal('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.stdout).toMatch(/API shutting down/);
  });

  it('worker starts on the task queue and, on SIGTERM, drains and exits 0', async () => {
    const worker = new ScriptProcess(['node', '--import', 'tsx', 'src/worker.ts'], { ...env, TEMPORAL_TASK_QUEUE: `entry-points-${Date.now()}` });
    await worker.waitForOutput(/worker started/);
    worker.signal('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.stdout).toMatch(/worker draining[\s\S]*worker stopped/);
  });
});
