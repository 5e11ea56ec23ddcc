import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { JsonRpcProvider, parseEther } from 'ethers';
import { isPortOpen } from '../../dev/tools/ports';
import { SignerClient } from '../../src/treasury/signer-client';
import { lines, npmRun, ScriptProcess } from '../helpers/script-process';
import { waitFor } from '../helpers/wait';

/**
 * `npm run dev` as a newcomer runs it (in a throw-away data directory, on free ports): it brings
 * the stack up (devnet included) and prints its lines, serves /healthz and the Web UI, keeps its
 * data across a restart, and Ctrl-C leaves nothing running.
 */
describe('npm run dev', () => {
  /** Every `npm run dev` started: stopped after the test even when an assertion failed halfway, so a failure leaves no stack running. */
  const started: ScriptProcess[] = [];
  afterEach(async () => {
    for (const dev of started.splice(0)) {
      try {
        dev.signal('SIGINT');
      } catch {
        // Its whole process group is gone already.
      }
      await dev.exited;
    }
  });

  it('starts everything, keeps data across a restart, and stops everything on Ctrl-C', async () => {
    const [apiPort, postgresPort, temporalPort, uiPort, anvilPort, tronPort] = await portsBelowEphemeralRange(6);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-dev-'));
    // mkdtemp makes it private to root; Postgres runs as its own user and must reach its folder inside.
    await chmod(dataDir, 0o755);
    const env = {
      INFLOW_DEV_DATA_DIR: dataDir,
      INFLOW_DEV_POSTGRES_PORT: String(postgresPort),
      INFLOW_DEV_TEMPORAL_PORT: String(temporalPort),
      INFLOW_DEV_TEMPORAL_UI_PORT: String(uiPort),
      INFLOW_DEV_ANVIL_PORT: String(anvilPort),
      INFLOW_DEV_TRON_PORT: String(tronPort),
      // Fast blocks and polls, so a Tron deposit's 19 confirmations pass in seconds.
      INFLOW_DEV_BLOCK_TIME: '0.2',
      INFLOW_CHAIN_POLL_MS: '200',
      PORT: String(apiPort),
      LOG_LEVEL: 'warn',
    };
    const start = async (extra: Record<string, string> = {}) => {
      const dev = new ScriptProcess(['npm', 'run', '--silent', 'dev'], { ...env, ...extra });
      started.push(dev);
      await dev.waitForOutput(/Test key: +sk_test_\w+/);
      return dev;
    };

    const first = await start();
    expect(first.stdout).toContain(`API:          http://localhost:${apiPort}/api/v1`);
    expect(first.stdout).toContain(`Temporal UI:  http://localhost:${uiPort}/namespaces/default/workflows`);
    expect(first.stdout).toContain(`Devnet:       http://127.0.0.1:${anvilPort} (test-mode ethereum; USDT 0x`);
    // The block times in force: the simulator's, each network's own unless INFLOW_SIMULATED_BLOCK_TIME_MS is set, and the devnets'.
    expect(first.stdout).toContain(
      "  Block times:  simulated deposits at each network's own pace: ethereum 12 s, polygon 2 s, bsc 3 s, arbitrum 250 ms, base 2 s, tron 3 s\n" +
        '                (INFLOW_SIMULATED_BLOCK_TIME_MS=1000 before npm run dev: 1 s on every network)\n' +
        '                devnets: a block every 0.2 s (INFLOW_DEV_BLOCK_TIME); a deposit completes after 12 confirmations on ethereum (about 2 s), 19 confirmations on tron (about 4 s)\n',
    );
    const key = /Test key: +(sk_test_\w+)/.exec(first.stdout)![1]!;
    const health = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
    // The public answer: the status alone (the detail needs INFLOW_HEALTH_TOKEN, docs/operations.md); ok means Postgres and Temporal answer.
    expect(await health.json()).toEqual({ status: 'ok' });
    // The detail, with the operator token this start made and printed.
    const healthToken = /Authorization: Bearer ([0-9a-f]{48})" 'http:\/\/localhost:\d+\/healthz\?detail'/.exec(first.stdout)?.[1];
    const detail = await fetch(`http://127.0.0.1:${apiPort}/healthz?detail`, { headers: { Authorization: `Bearer ${healthToken}` } });
    expect([detail.status, await detail.json()]).toMatchObject([200, { status: 'ok', postgres: { status: 'up' } }]);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    const created = (await (
      await fetch(`http://127.0.0.1:${apiPort}/api/v1/customers`, { method: 'POST', headers: { Authorization: `Bearer ${key}` } })
    ).json()) as { id: string; addresses: Array<{ network: string; address: string }> };

    // The newcomer's Tron deposit: 25 USDT on the Tron devnet to the customer's T… address, completed by the watcher.
    expect(first.stdout).toContain(`Tron devnet:  http://127.0.0.1:${tronPort} (test-mode tron, a stand-in for java-tron; USDT T`);
    const tronAddress = created.addresses.find((entry) => entry.network === 'tron')!.address;
    const sent = await npmRun('cli', ['devnet', 'send', '--network', 'tron', '--to', tronAddress, '--amount', '25', '--currency', 'USDT'], env);
    expect([sent.code, sent.stderr]).toEqual([0, '']);
    // What was sent, to whom, in which block, and what inflow does next.
    expect(lines(sent.stdout)).toEqual([
      'sent 25 USDT on the tron devnet (test-mode tron)',
      expect.stringMatching(/^ {2}from: +T\w{33} \(the devnet's funded account\)$/),
      `  to:           ${tronAddress}`,
      expect.stringMatching(/^ {2}transaction: +[0-9a-f]{64}$/),
      expect.stringMatching(/^ {2}block: +\d+$/),
      // How long until it completes: the stack's confirmations (from its dev-stack.json) at the devnet's block time.
      "  needs:        19 confirmations: about 4 s at this devnet's 0.2 s blocks",
      `next: inflow's watcher (workflow watcher:test:tron) finds it within a poll; if ${tronAddress} is a customer's or an order's deposit address,`,
      '  a deposit starts (deposit.detected) and completes once it has those confirmations (deposit.completed).',
      '  Follow it: GET /api/v1/deposits?network=tron, the dashboard, or the Temporal UI (ObjectStatus = "confirming").',
    ]);
    const deposits = async () =>
      (
        (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/deposits?network=tron`, { headers: { Authorization: `Bearer ${key}` } })).json()) as {
          data: any[];
        }
      ).data;
    await waitFor('the Tron deposit completed', async () => (await deposits())[0]?.status === 'completed', 60_000);
    expect((await deposits())[0]).toMatchObject({
      network: 'tron',
      currency: 'USDT',
      address: tronAddress,
      amount: '25.000000',
      fee: '2.000000',
      net_amount: '23.000000',
    });
    // One character changed breaks the checksum; the replacement must differ from the address's own last character.
    const broken = `${tronAddress.slice(0, -1)}${tronAddress.endsWith('x') ? 'y' : 'x'}`;
    const bad = await npmRun('cli', ['devnet', 'send', '--network', 'tron', '--to', broken, '--amount', '1'], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, expect.stringMatching(/--to must be a Tron address \(T…, base58check with a valid checksum\)/)]);

    // docs/operations.md's commands as written: the Temporal CLI, pointed at this stack through its dev-stack.json.
    const counted = await npmRun('temporal', ['workflow', 'count', '--query', "WorkflowType = 'chainWatcherWorkflow'"], env);
    expect([counted.code, lines(counted.stderr), lines(counted.stdout)]).toEqual([
      0,
      [`inflow: Temporal 127.0.0.1:${temporalPort} namespace default (${dataDir}/dev-stack.json)`],
      ['Total: 2'],
    ]);

    // The signer: its socket private to this user, its health (asked with the secret kept in the data directory) naming the
    // gas wallet and treasury printed, and the gas wallet funded on the devnet.
    const gasWallet = /Gas wallet: +(0x[0-9a-fA-F]{40}) +\(test mode, m\/44'\/60'\/1'\/0\/0 of the development wallet/.exec(first.stdout)?.[1];
    const treasury = /Treasury: +(0x[0-9a-fA-F]{40}) +\(test-mode ethereum, m\/44'\/60'\/2'\/0\/0 of the development wallet/.exec(first.stdout)?.[1];
    const tronGasWallet = /Gas wallet: +(T[1-9A-HJ-NP-Za-km-z]{33}) +\(test-mode tron, m\/44'\/195'\/1'\/0\/0/.exec(first.stdout)?.[1];
    const tronTreasury = /Treasury: +(T[1-9A-HJ-NP-Za-km-z]{33}) +\(test-mode tron, m\/44'\/195'\/2'\/0\/0 of the development wallet/.exec(first.stdout)?.[1];
    const socketPath = path.join(dataDir, 'signer', 'signer.sock');
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    const signer = new SignerClient({ socketPath, secret: (await readFile(path.join(dataDir, 'signer', 'secret'), 'utf8')).trim() });
    expect(await signer.health()).toEqual({
      ok: true,
      modes: ['test'],
      gas_wallets: { test: gasWallet },
      tron_gas_wallets: { test: tronGasWallet },
      treasuries: { test: { ethereum: treasury, tron: tronTreasury } },
      // Payouts are sent from the treasury: the development one is the signer's hot wallet.
      hot_wallets: { test: treasury },
      tron_hot_wallets: { test: tronTreasury },
    });
    const anvil = new JsonRpcProvider(`http://127.0.0.1:${anvilPort}`, undefined, { staticNetwork: true });
    expect(await anvil.getBalance(gasWallet!)).toBeGreaterThanOrEqual(parseEther('1'));
    // The hot wallet has ETH for its payouts' gas, as an operator would fund it.
    expect(await anvil.getBalance(treasury!)).toBeGreaterThanOrEqual(parseEther('1'));
    anvil.destroy();
    // The Tron gas wallet is funded and has staked TRX for energy on the stand-in, as an operator would by hand.
    const tronAccount = (await (
      await fetch(`http://127.0.0.1:${tronPort}/wallet/getaccount`, { method: 'POST', body: JSON.stringify({ address: tronGasWallet, visible: true }) })
    ).json()) as { frozenV2: Array<{ type?: string; amount?: number }> };
    expect(tronAccount.frozenV2.find((entry: { type?: string }) => entry.type === 'ENERGY')).toEqual({ type: 'ENERGY', amount: 100_000_000_000 });

    first.signal('SIGINT');
    await first.exited;
    expect(existsSync(socketPath)).toBe(false);
    for (const port of [apiPort, postgresPort, temporalPort, uiPort, anvilPort, tronPort] as number[])
      expect([port, await isPortOpen(port)]).toEqual([port, false]);

    expect(first.stdout).not.toContain('Live key:');
    // Without INFLOW_DEV_LIVE, no live key is made or kept.
    expect(JSON.parse(await readFile(path.join(dataDir, 'dev-merchant.json'), 'utf8'))).not.toHaveProperty('live_key');

    // The restart asks for the devnet-only live mode: the same merchant gets a live key, printed beside the test key and kept.
    const second = await start({ INFLOW_SIMULATED_BLOCK_TIME_MS: '1000', INFLOW_DEV_LIVE: 'on' });
    try {
      expect(second.stdout).toContain(key);
      expect(second.stdout).toContain('  Block times:  simulated deposits: a block every 1 s on every network (INFLOW_SIMULATED_BLOCK_TIME_MS=1000)\n');
      const fetched = await fetch(`http://127.0.0.1:${apiPort}/api/v1/customers/${created.id}`, { headers: { Authorization: `Bearer ${key}` } });
      expect(fetched.status).toBe(200);
      const liveKey = /Live key: +(sk_live_\w+) +\(INFLOW_DEV_LIVE=on: live mode on the local devnets only;.*never send real funds/.exec(second.stdout)?.[1];
      expect(liveKey).toBeDefined();
      expect(second.stdout).toContain(`Devnet:       http://127.0.0.1:${anvilPort} (ethereum in test and live mode; USDT 0x`);
      expect(second.stderr).toContain('live-mode deposit addresses come from a throw-away mnemonic');
      // The signer signs for the devnet-only live mode too, with its own gas wallet and treasury.
      expect(second.stdout).toContain(`Gas wallet:   ${gasWallet}   (test mode`);
      expect(second.stdout).toMatch(/Gas wallet: +0x[0-9a-fA-F]{40} +\(live mode/);
      expect(second.stdout).toMatch(/Treasury: +0x[0-9a-fA-F]{40} +\(live-mode ethereum/);
      const saved = JSON.parse(await readFile(path.join(dataDir, 'dev-merchant.json'), 'utf8')) as { test_key: string; live_key: string };
      expect(saved).toMatchObject({ test_key: key, live_key: liveKey });
      const wallets = JSON.parse(await readFile(path.join(dataDir, 'dev-wallets.json'), 'utf8')) as Record<string, { note?: string }>;
      expect(Object.keys(wallets).sort()).toEqual(['live', 'test']);
      expect(wallets.live!.note).toMatch(/^devnet only/);
      const live = { Authorization: `Bearer ${liveKey}` };
      // The same merchant, in live mode.
      const account = async (headers: Record<string, string>) =>
        (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/account`, { headers })).json()) as { id: string; mode: string };
      const [liveAccount, testAccount] = [await account(live), await account({ Authorization: `Bearer ${key}` })];
      expect([liveAccount.id, liveAccount.mode, testAccount.mode]).toEqual([testAccount.id, 'live', 'test']);
      // A live customer's ethereum address, paid on the devnet, completes a live deposit there.
      const liveCustomer = (await (
        await fetch(`http://127.0.0.1:${apiPort}/api/v1/customers`, { method: 'POST', headers: { ...live, 'Idempotency-Key': 'live-customer' } })
      ).json()) as { livemode: boolean; addresses: Array<{ network: string; address: string }> };
      expect(liveCustomer.livemode).toBe(true);
      const liveAddress = liveCustomer.addresses.find((entry) => entry.network === 'ethereum')!.address;
      expect(created.addresses.map((entry) => entry.address)).not.toContain(liveAddress);
      const liveSent = await npmRun('cli', ['devnet', 'send', '--to', liveAddress, '--amount', '25', '--currency', 'USDT'], env);
      expect([liveSent.code, liveSent.stderr]).toEqual([0, '']);
      expect(lines(liveSent.stdout)).toEqual(
        expect.arrayContaining([
          'sent 25 USDT on the ethereum devnet (ethereum in test and live mode, devnet only)',
          "  needs:        12 confirmations: about 2 s at this devnet's 0.2 s blocks",
          `next: inflow's watcher (workflow watcher:test:ethereum or watcher:live:ethereum) finds it within a poll; if ${liveAddress} is a customer's or an order's deposit address in either mode,`,
        ]),
      );
      const liveDeposits = async () =>
        ((await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/deposits?network=ethereum`, { headers: live })).json()) as { data: any[] }).data;
      await waitFor('the live devnet deposit completed', async () => (await liveDeposits())[0]?.status === 'completed', 60_000);
      expect((await liveDeposits())[0]).toMatchObject({ livemode: true, address: liveAddress, amount: '25.000000', fee: '2.000000', simulated: false });
    } finally {
      second.signal('SIGINT');
      await second.exited;
    }
  }, 150_000); // two full start-ups of the stack, on a loaded CI machine
});

/**
 * Free ports below the OS's ephemeral range (32768 and up on Linux), where no other test's
 * freePort() lands: when the stack stops, a port it freed stays closed unless the stack left
 * something running, whatever the tests running beside this one open.
 */
async function portsBelowEphemeralRange(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(candidate)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) ports.push(candidate);
  }
  return ports;
}
