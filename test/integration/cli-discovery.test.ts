import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeDevStack, type DevStack } from '../../src/cli/dev-stack';
import { unsealApiKey } from '../../src/merchants/sealed-keys';
import { describeDatabaseUrl } from '../../src/startup';
import { testSecretKey, testSecretKeyHex } from '../../dev/fixtures';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { lines, npmRun } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';

/**
 * The CLI finds a running `npm run dev` through its .data/dev-stack.json (here in a throw-away
 * INFLOW_DEV_DATA_DIR, naming this test's database), says so on stderr, lets the environment win,
 * and says how to fix it when there is neither.
 */
describe('npm run cli finds the dev stack', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.destroy();
  });

  const devStackIn = async (overrides: Partial<DevStack> = {}) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-discovery-'));
    const secretKeyFile = path.join(dataDir, 'dev-secret-key');
    await writeFile(secretKeyFile, `${testSecretKeyHex}\n`);
    await writeDevStack(dataDir, {
      // This process stands in for npm run dev's: the file describes a stack that is running.
      pid: process.pid,
      database_url: database.url,
      api_url: 'http://127.0.0.1:9/api/v1',
      temporal: { address: readTestEnv('temporalAddress'), namespace: 'default', task_queue: 'inflow', ui_url: null },
      secret_key_file: secretKeyFile,
      merchant_file: path.join(dataDir, 'dev-merchant.json'),
      chain_env: {},
      ...overrides,
    });
    return dataDir;
  };

  it('merchant create uses the dev stack database and its secret key, and names them on stderr', async () => {
    const dataDir = await devStackIn();
    const run = await npmRun('cli', ['merchant', 'create', '--name', 'Found', '--json'], { INFLOW_DEV_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    expect(lines(run.stderr)).toEqual([`inflow: database ${describeDatabaseUrl(database.url)} (${dataDir}/dev-stack.json)`]);
    const created = JSON.parse(run.stdout) as { merchant_id: string; test_key: string };
    const merchant = await database.db.selectFrom('merchants').select('name').where('id', '=', created.merchant_id).executeTakeFirst();
    expect(merchant).toEqual({ name: 'Found' });
    const keys = await database.db.selectFrom('api_keys').select(['id', 'sealed_key']).where('merchant_id', '=', created.merchant_id).execute();
    expect(keys.map((key) => unsealApiKey(key.sealed_key!, testSecretKey, key.id))).toContain(created.test_key);
  });

  it('the environment wins over the dev stack', async () => {
    const dataDir = await devStackIn({ database_url: 'postgres://nobody:nothing@127.0.0.1:9/nowhere' });
    const run = await npmRun('cli', ['merchant', 'create', '--name', 'From env'], {
      INFLOW_DEV_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      INFLOW_SECRET_KEY: testSecretKeyHex,
    });
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/^merchant mch_\w+ \(From env\)$/m);
  });

  it('chain rescan takes Temporal and the chains from the dev stack as well', async () => {
    // A node whose head is block 1 (every JSON-RPC call is answered 0x1, chain id included).
    const node = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const calls = JSON.parse(body) as { id: number } | Array<{ id: number }>;
        const answer = (call: { id: number }) => ({ jsonrpc: '2.0', id: call.id, result: '0x1' });
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(Array.isArray(calls) ? calls.map(answer) : answer(calls)));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    try {
      const rpcUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
      const dataDir = await devStackIn({ chain_env: { INFLOW_RPC_URL_ETHEREUM_TEST: rpcUrl } });
      const run = await npmRun('cli', ['chain', 'rescan', '--network', 'ethereum', '--from', '1', '--to', '2'], { INFLOW_DEV_DATA_DIR: dataDir });
      expect([run.code, lines(run.stderr)]).toEqual([
        1,
        [
          `inflow: database ${describeDatabaseUrl(database.url)} (${dataDir}/dev-stack.json), Temporal ${readTestEnv('temporalAddress')} namespace default (${dataDir}/dev-stack.json)`,
          "block 2 is past the node's head (1)",
        ],
      ]);

      // A network with no node: said so, with the networks that are watched (not a request for --mode).
      const polygon = await npmRun('cli', ['chain', 'rescan', '--network', 'polygon', '--from', '1', '--to', '2'], { INFLOW_DEV_DATA_DIR: dataDir });
      expect([polygon.code, lines(polygon.stderr)]).toEqual([
        1,
        ['polygon is not watched: no node is configured for it (INFLOW_RPC_URL_POLYGON_TEST or INFLOW_RPC_URL_POLYGON_LIVE); watched: ethereum (test)'],
      ]);
      const live = await npmRun('cli', ['chain', 'rescan', '--network', 'ethereum', '--mode', 'live', '--from', '1', '--to', '2'], {
        INFLOW_DEV_DATA_DIR: dataDir,
      });
      expect([live.code, lines(live.stderr)]).toEqual([
        1,
        ['no node is configured for ethereum in live mode: set INFLOW_RPC_URL_ETHEREUM_LIVE; watched: ethereum (test)'],
      ]);
    } finally {
      await new Promise((resolve) => node.close(resolve));
    }
  });

  it('with neither, says both ways in one line', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'inflow-discovery-'));
    const merchant = await npmRun('cli', ['merchant', 'create', '--name', 'Lost'], { INFLOW_DEV_DATA_DIR: empty });
    expect([merchant.code, lines(merchant.stderr)]).toEqual([
      1,
      [
        `inflow: no DATABASE_URL in the environment and no running \`npm run dev\` (${empty}/dev-stack.json not found): set DATABASE_URL (e.g. postgres://inflow:secret@localhost:5432/inflow), or start \`npm run dev\``,
      ],
    ]);
    const listen = await npmRun('cli', ['listen', '--forward-to', 'http://127.0.0.1:4000/hooks'], { INFLOW_DEV_DATA_DIR: empty });
    expect([listen.code, lines(listen.stderr)]).toEqual([
      1,
      [
        `inflow: no INFLOW_API_URL in the environment and no running \`npm run dev\` (${empty}/dev-stack.json not found): set INFLOW_API_URL (e.g. http://localhost:3000/api/v1), or start \`npm run dev\``,
      ],
    ]);
  });

  it('a dev stack file left by an npm run dev that is gone says so', async () => {
    const exited = spawnSync(process.execPath, ['-e', '']);
    const dataDir = await devStackIn({ pid: exited.pid! });
    const run = await npmRun('cli', ['merchant', 'create', '--name', 'Stale'], { INFLOW_DEV_DATA_DIR: dataDir });
    expect([run.code, lines(run.stderr)]).toEqual([
      1,
      [`inflow: ${dataDir}/dev-stack.json describes an \`npm run dev\` that is no longer running (pid ${exited.pid}): start \`npm run dev\` again`],
    ]);
  });
});
