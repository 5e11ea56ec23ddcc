import { request } from 'node:http';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Contract, HDNodeWallet, Mnemonic, parseEther, Transaction, Wallet, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { testDerivers, testMnemonics } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { tronAddressOfKey } from '../../src/chains/tron/transaction';
import { verifyAuditLog, type AuditEntry } from '../../src/signer/audit-log';
import { payoutAuthorization } from '../../src/treasury/payout-authorization';
import { SignerClient, SignerRefusedError, SignerUnavailableError, type SignRequest } from '../../src/treasury/signer-client';
import { ScriptProcess } from '../helpers/script-process';
import { startTestSigner, type TestSigner } from '../helpers/signer';

const repoRoot = path.resolve(__dirname, '../..');
const secret = 'signer-test-secret-0123456789abcdef0123456789';
const GWEI = 10n ** 9n;

/**
 * The real signer process (`tsx src/signer/main.ts`) on a temp socket with the public test
 * mnemonic, asked through SignerClient, its transactions broadcast on a real anvil: the chain is
 * the oracle of what was signed.
 */
describe('the signer process', () => {
  let anvil: RunningAnvil;
  let funder: NonceManager;
  let usdt: Contract;
  let otherToken: Contract;
  let usdtAddress: string;
  let dir: string;
  let signer: ScriptProcess;
  let client: SignerClient;
  let env: Record<string, string>;
  let gasWallet: string;
  /** Decisions asked for so far (each is one audit line). */
  let decisions = 0;
  const treasury = Wallet.createRandom().address;
  const stranger = Wallet.createRandom().address;
  const deriver = testDerivers().test;
  // Customers 0-9 of anvil's mnemonic are its funded accounts: deposits here use higher indexes.
  const customer5 = deriver.derive('evm', 15);
  const customer7 = deriver.derive('evm', 17);
  const order3 = deriver.derive('evm', 3, 'orders');

  const startSignerWith = async (overrides: Record<string, string> = {}) => {
    const started = new ScriptProcess([path.join(repoRoot, 'node_modules', '.bin', 'tsx'), 'src/signer/main.ts'], { ...env, ...overrides });
    await started.waitForOutput(/signer started/);
    return started;
  };
  const startSigner = () => startSignerWith();
  const stopSigner = async () => {
    signer.signal('SIGTERM');
    await signer.exited;
  };

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    funder = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(funder);
    otherToken = await deployTestUsdt(funder);
    usdtAddress = await usdt.getAddress();
    dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-signer-'));
    await writeFile(path.join(dir, 'test-mnemonic'), `${testMnemonics.test}\n`, { mode: 0o600 });
    env = {
      INFLOW_SIGNER_SOCKET: path.join(dir, 'signer.sock'),
      INFLOW_SIGNER_SECRET: secret,
      INFLOW_SIGNER_AUDIT_LOG: path.join(dir, 'audit.log'),
      INFLOW_SIGNER_MNEMONIC_FILE_TEST: path.join(dir, 'test-mnemonic'),
      INFLOW_TREASURY_ETHEREUM_TEST: treasury,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: usdtAddress,
      INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
      // 'signer started' is an info line.
      LOG_LEVEL: 'info',
    };
    signer = await startSigner();
    client = new SignerClient({ socketPath: env.INFLOW_SIGNER_SOCKET!, secret });
    gasWallet = (await client.health()).gas_wallets.test!;
  });

  afterAll(async () => {
    if (signer) await stopSigner().catch(() => undefined);
    await anvil?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fees = { gas_limit: '100000', max_fee_per_gas: String(3n * GWEI), max_priority_fee_per_gas: String(GWEI) };
  let requests = 0;
  /** A request with defaults: a sweep from customer 15 on test-mode ethereum. */
  const ask = (overrides: Partial<Omit<SignRequest, 'tx'>> & { tx: Partial<SignRequest['tx']> }): SignRequest => ({
    request_id: `request-${++requests}`,
    workflow_id: `sweep-${requests}`,
    reason: 'integration test',
    mode: 'test',
    network: 'ethereum',
    kind: 'sweep',
    from: { wallet: 'deposit', branch: 'customers', index: 15 },
    ...overrides,
    tx: { ...{ chain_id: 31337, nonce: 0, to: treasury, value: '0', data: '0x', ...fees }, ...overrides.tx },
  });
  const sign = (body: SignRequest) => {
    decisions++;
    return client.sign(body);
  };
  const refused = async (body: SignRequest, rule: RegExp) => {
    decisions++;
    const error = await client.sign(body).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SignerRefusedError);
    expect(error).toMatchObject({ status: 403, code: 'policy_refused' });
    expect((error as Error).message).toMatch(rule);
  };
  const transferData = (to: string, amount: bigint) => usdt.interface.encodeFunctionData('transfer', [to, amount]);
  const broadcast = async (raw: string) => (await anvil.provider.broadcastTransaction(raw)).wait();

  it("serves its health: the modes with keys, the gas wallet (m/44'/60'/1'/0/0), the treasuries, the hot wallet (m/44'/60'/2'/0/0)", async () => {
    const expectedGasWallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(testMnemonics.test), "m/44'/60'/1'/0/0").address;
    expect(await client.health()).toEqual({
      ok: true,
      modes: ['test'],
      gas_wallets: { test: expectedGasWallet },
      treasuries: { test: { ethereum: treasury } },
      tron_gas_wallets: { test: tronAddressOfKey(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(testMnemonics.test), "m/44'/195'/1'/0/0").privateKey) },
      hot_wallets: { test: HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(testMnemonics.test), "m/44'/60'/2'/0/0").address },
      tron_hot_wallets: { test: tronAddressOfKey(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(testMnemonics.test), "m/44'/195'/2'/0/0").privateKey) },
    });
  });

  it('makes its socket private to its user (mode 0600)', async () => {
    expect((await stat(env.INFLOW_SIGNER_SOCKET!)).mode & 0o777).toBe(0o600);
  });

  it('signs a token sweep from a deposit address to the treasury, which the chain carries out', async () => {
    const amount = 25_000_000n;
    await (await usdt.getFunction('transfer')(customer5, amount)).wait();
    await (await funder.sendTransaction({ to: customer5, value: parseEther('0.01') })).wait();
    const answer = await sign(
      ask({ tx: { to: usdtAddress, data: transferData(treasury, amount), nonce: await anvil.provider.getTransactionCount(customer5) } }),
    );
    const transaction = Transaction.from(answer.signed_transaction);
    expect([transaction.from, answer.from, transaction.hash, transaction.type, transaction.chainId]).toEqual([customer5, customer5, answer.hash, 2, 31337n]);
    const before = (await usdt.getFunction('balanceOf')(treasury)) as bigint;
    const receipt = await broadcast(answer.signed_transaction);
    expect(receipt?.status).toBe(1);
    expect((await usdt.getFunction('balanceOf')(treasury)) as bigint).toBe(before + amount);
    expect((await usdt.getFunction('balanceOf')(customer5)) as bigint).toBe(0n);
  });

  it('signs a native sweep from an order address to the treasury', async () => {
    await (await funder.sendTransaction({ to: order3, value: parseEther('1') })).wait();
    const fee = 21_000n * 3n * GWEI;
    const value = parseEther('1') - fee;
    const answer = await sign(ask({ from: { wallet: 'deposit', branch: 'orders', index: 3 }, tx: { value: value.toString(), gas_limit: '21000', nonce: 0 } }));
    expect(answer.from).toBe(order3);
    await broadcast(answer.signed_transaction);
    expect(await anvil.provider.getBalance(treasury)).toBe(value);
  });

  it('signs a gas top-up from the gas wallet to a deposit address, and refuses one over the cap', async () => {
    await (await funder.sendTransaction({ to: gasWallet, value: parseEther('1') })).wait();
    const topup = (value: bigint) =>
      ask({
        kind: 'gas_topup',
        from: { wallet: 'gas' },
        destination: { branch: 'customers', index: 17 },
        tx: { to: customer7, value: value.toString(), gas_limit: '21000', nonce: 0 },
      });
    const answer = await sign(topup(parseEther('0.005')));
    expect(answer.from).toBe(gasWallet);
    await broadcast(answer.signed_transaction);
    expect(await anvil.provider.getBalance(customer7)).toBe(parseEther('0.005'));
    // The default cap: 10^16 wei.
    await refused(topup(10n ** 16n + 1n), /above the 10000000000000000 wei one may send on ethereum in test mode \(INFLOW_GAS_TOPUP_MAX_WEI_ETHEREUM_TEST\)/);
  });

  it('refuses whatever is not a sweep to the treasury or a top-up of the destination, naming the rule', async () => {
    const tokenSweep = (data: string, to = usdtAddress) => ask({ tx: { to, data } });
    await refused(
      tokenSweep(transferData(stranger, 1n)),
      new RegExp(`a token sweep may only pay ethereum in test mode's treasury ${treasury}, not ${stranger}`),
    );
    await refused(ask({ tx: { to: stranger, value: '1000' } }), new RegExp(`a native sweep may only pay .*treasury ${treasury}, not ${stranger}`));
    await refused(tokenSweep(`${transferData(treasury, 1n)}00`), /data must be exactly transfer\(.*\) ABI-encoded, and nothing else/);
    await refused(tokenSweep(usdt.interface.encodeFunctionData('approve', [stranger, 1n])), /data must be exactly transfer/);
    await refused(tokenSweep(transferData(treasury, 1n), await otherToken.getAddress()), /is not a token contract of ethereum in test mode/);
    await refused(ask({ tx: { to: usdtAddress, data: transferData(treasury, 1n), value: '1' } }), /a token sweep sends no native value/);
    await refused(
      ask({
        kind: 'gas_topup',
        from: { wallet: 'gas' },
        destination: { branch: 'customers', index: 17 },
        tx: { to: stranger, value: '1000', gas_limit: '21000' },
      }),
      new RegExp(`may only pay its destination's address ${customer7} \\(customers 17\\), not ${stranger}`),
    );
    await refused(ask({ kind: 'gas_topup', from: { wallet: 'gas' }, tx: { to: customer7, value: '1000' } }), /names its destination/);
    await refused(ask({ from: { wallet: 'gas' }, tx: { value: '1000' } }), /a sweep is sent from a deposit address/);
    await refused(ask({ mode: 'live', tx: { value: '1000' } }), /live mode has no key material \(INFLOW_SIGNER_MNEMONIC_FILE_LIVE is unset\)/);
    await refused(ask({ network: 'polygon', tx: { value: '1000' } }), /no treasury is configured for polygon in test mode \(INFLOW_TREASURY_POLYGON_TEST\)/);
    // A Tron request carries raw_data_hex, not an EVM tx (test/integration/tron-signer.test.ts): not a sign request.
    await expect(client.sign(ask({ network: 'tron', tx: { value: '1000' } }))).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    await refused(
      ask({ tx: { value: '1000', chain_id: 1 } }),
      /chain_id 1 is not ethereum in test mode's 31337 \(INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST\): .*replayed/,
    );
    await refused(
      ask({ tx: { value: '1000', max_fee_per_gas: String(10n ** 12n) } }),
      /the fee could reach 100000000000000000 wei .*INFLOW_SIGNER_MAX_FEE_WEI_ETHEREUM_TEST/,
    );
  });

  it('answers a repeated request with the same bytes, and refuses its id with another body', async () => {
    const body = ask({ tx: { value: '12345', gas_limit: '21000', nonce: 42 } });
    const first = await sign(body);
    // Fields in another order: the same request.
    const { tx, ...rest } = body;
    const reordered = JSON.parse(JSON.stringify({ tx, ...rest })) as SignRequest;
    expect(await sign(reordered)).toEqual(first);
    decisions++;
    await expect(client.sign({ ...body, tx: { ...body.tx, value: '12346' } })).rejects.toMatchObject({ status: 409, code: 'request_conflict' });
    // Only a signature binds its id: a refused request may be asked again, put right, under the same id.
    const wrong = ask({ tx: { value: '5', gas_limit: '21000', chain_id: 1 } });
    await refused(wrong, /chain_id 1/);
    expect((await sign({ ...wrong, tx: { ...wrong.tx, chain_id: 31337 } })).from).toBe(customer5);
  });

  it('answers 401 to a wrong secret, 400 to a malformed body, and is unavailable where no signer listens', async () => {
    const wrong = new SignerClient({ socketPath: env.INFLOW_SIGNER_SOCKET!, secret: 'x'.repeat(40) });
    await expect(wrong.health()).rejects.toMatchObject({ name: 'SignerRefusedError', status: 401, code: 'unauthorized' });
    await expect(wrong.sign(ask({ tx: { value: '1' } }))).rejects.toMatchObject({ status: 401 });
    expect(await raw('POST', '/v1/sign', '{"request_id": ')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'the body is not JSON' } },
    });
    expect(await raw('POST', '/v1/sign', JSON.stringify({ ...ask({ tx: {} }), tx: { ...ask({ tx: {} }).tx, value: '-1' } }))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringMatching(/^tx\.value: must be a whole number/) } },
    });
    expect(await raw('POST', '/v1/sign', JSON.stringify({ ...ask({ tx: {} }), extra: true }))).toMatchObject({ status: 400 });
    expect(await raw('GET', '/v1/sign')).toMatchObject({ status: 405 });
    const nowhere = new SignerClient({ socketPath: path.join(dir, 'nothing.sock'), secret });
    await expect(nowhere.health()).rejects.toBeInstanceOf(SignerUnavailableError);
  });

  it('logs one line per decision, hash-chained; an edited line breaks the chain', async () => {
    const file = env.INFLOW_SIGNER_AUDIT_LOG!;
    const entries: AuditEntry[] = [];
    expect(await verifyAuditLog(file, (entry) => entries.push(entry))).toMatchObject({ ok: true, lines: decisions });
    expect(entries.filter((entry) => entry.decision === 'signed')).toHaveLength(6);
    const token = entries.find((entry) => entry.token)!;
    expect(token).toMatchObject({
      kind: 'sweep',
      mode: 'test',
      network: 'ethereum',
      chain_id: 31337,
      from: customer5,
      to: usdtAddress,
      value: '0',
      token: { contract: usdtAddress, currency: 'USDT', recipient: treasury, amount: '25000000' },
      decision: 'signed',
      refusal: null,
      repeat: false,
      workflow_id: expect.stringMatching(/^sweep-/),
      reason: 'integration test',
    });
    expect(entries.find((entry) => entry.rule === 'chain_id')).toMatchObject({
      decision: 'refused',
      tx_hash: null,
      refusal: expect.stringContaining('replayed'),
    });
    expect(entries.filter((entry) => entry.repeat)).toHaveLength(1);
    expect(entries.find((entry) => entry.rule === 'request_conflict')).toMatchObject({ decision: 'refused' });

    const lines = (await readFile(file, 'utf8')).split('\n');
    const edited = path.join(dir, 'edited.log');
    lines[2] = lines[2]!.replace(/"value":"[0-9]+"/, '"value":"1"');
    await writeFile(edited, lines.join('\n'));
    expect(await verifyAuditLog(edited)).toMatchObject({ ok: false, line: 4, reason: expect.stringContaining('prev is not the SHA-256 of line 3') });
  });

  it('after a restart, remembers request ids from its log, drops a torn last line, and refuses to start on a broken chain', async () => {
    await stopSigner();
    const file = env.INFLOW_SIGNER_AUDIT_LOG!;
    const text = await readFile(file, 'utf8');
    // A crash mid-write: half a line, never answered.
    await writeFile(file, `${text}{"time":"2026-`);
    signer = await startSigner();
    const body = ask({ tx: { value: '999', gas_limit: '21000', nonce: 7 } });
    const first = await sign(body);
    expect(signer.stdout).toMatch(/removed a last line cut short by a crash \(never answered\): \{\\"time\\":\\"2026-"/);
    await stopSigner();
    signer = await startSigner();
    expect(await sign(body)).toEqual(first);
    decisions++;
    await expect(client.sign({ ...body, reason: 'another' })).rejects.toMatchObject({ status: 409 });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, lines: decisions });

    await stopSigner();
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(file, lines.join('\n'));
    const broken = new ScriptProcess([path.join(repoRoot, 'node_modules', '.bin', 'tsx'), 'src/signer/main.ts'], env);
    expect(await broken.exited).toBe(1);
    expect(broken.stderr).toMatch(/the audit log .* is broken: line 2 its prev is not the SHA-256 of line 1/);
    signer = broken;
  });

  it('signs nothing when its audit log cannot be written: 503, which the client calls unavailable', async () => {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    const full = await startSignerWith({ INFLOW_SIGNER_SOCKET: path.join(dir, 'full.sock'), INFLOW_SIGNER_AUDIT_LOG: '/dev/full' });
    try {
      const fullClient = new SignerClient({ socketPath: path.join(dir, 'full.sock'), secret });
      const error = await fullClient.sign(ask({ tx: { value: '1000', gas_limit: '21000' } })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SignerUnavailableError);
      expect((error as Error).message).toMatch(/not signed: the decision could not be written to the audit log .*ENOSPC/);
    } finally {
      full.signal('SIGTERM');
      await full.exited;
    }
  });

  it('refuses a mnemonic file others can read', async () => {
    const open = path.join(dir, 'open-mnemonic');
    await writeFile(open, testMnemonics.live);
    await chmod(open, 0o644);
    const started = new ScriptProcess([path.join(repoRoot, 'node_modules', '.bin', 'tsx'), 'src/signer/main.ts'], {
      ...env,
      INFLOW_SIGNER_SOCKET: path.join(dir, 'other.sock'),
      INFLOW_SIGNER_AUDIT_LOG: path.join(dir, 'other.log'),
      INFLOW_SIGNER_MNEMONIC_FILE_LIVE: open,
    });
    expect(await started.exited).toBe(1);
    expect(started.stderr).toMatch(/INFLOW_SIGNER_MNEMONIC_FILE_LIVE \(.*\) is readable by others \(mode 644\): chmod 600 it/);
  });

  /**
   * Payouts, on a signer of their own (test/helpers/signer.ts) whose treasury is the hot wallet, as
   * the worker requires: the API's authorization (INFLOW_PAYOUT_AUTHORIZATION_SECRET) is made
   * here with payoutAuthorization, as the API makes it.
   */
  describe('payouts from the hot wallet', () => {
    const payoutSecret = 'a-payout-authorization-secret-for-the-signer-test';
    const hotWallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(testMnemonics.test), "m/44'/60'/2'/0/0").address;
    const merchant = Wallet.createRandom().address;
    let payoutSigner: TestSigner;
    let payoutRequests = 0;

    beforeAll(async () => {
      payoutSigner = await startTestSigner(
        {
          INFLOW_TREASURY_ETHEREUM_TEST: hotWallet,
          INFLOW_TOKEN_ETHEREUM_USDT_TEST: usdtAddress,
          INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
          INFLOW_PAYOUT_AUTHORIZATION_SECRET: payoutSecret,
          INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_TEST: '1000',
        },
        secret,
      );
      await (await funder.sendTransaction({ to: hotWallet, value: parseEther('2') })).wait();
      await (await usdt.getFunction('transfer')(hotWallet, 500_000_000n)).wait();
    });

    afterAll(async () => {
      await payoutSigner?.stop();
    });

    /** Payout `id` of `amount` USDT base units (or ETH wei) to the merchant, authorised, at `nonce`, with `fees`. */
    const payout = (
      id: string,
      amount: bigint,
      nonce: number,
      options: { currency?: 'USDT' | 'ETH'; fees?: Partial<typeof fees>; authorisedAmount?: bigint } = {},
    ) => {
      const currency = options.currency ?? 'USDT';
      const authorization = payoutAuthorization(payoutSecret, {
        payout_id: id,
        mode: 'test',
        network: 'ethereum',
        currency,
        amount: String(options.authorisedAmount ?? amount),
        destination: merchant,
      });
      return ask({
        request_id: `payout-${id}-${++payoutRequests}`,
        workflow_id: `payout:${id}`,
        reason: `payout ${id}`,
        kind: 'payout',
        from: { wallet: 'hot' },
        payout: { id, currency, amount: amount.toString(), destination: merchant, authorization },
        tx: {
          nonce,
          ...(currency === 'USDT'
            ? { to: usdtAddress, value: '0', data: transferData(merchant, amount), gas_limit: '65000' }
            : { to: merchant, value: amount.toString(), data: '0x', gas_limit: '21000' }),
          ...options.fees,
        },
      });
    };
    const refusedPayout = async (body: SignRequest, rule: RegExp) => {
      const error = await payoutSigner.client.sign(body).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SignerRefusedError);
      expect(error).toMatchObject({ status: 403, code: 'policy_refused' });
      expect((error as Error).message).toMatch(rule);
    };

    it('serves the hot wallet in its health', async () => {
      expect((await payoutSigner.client.health()).hot_wallets).toEqual({ test: hotWallet });
    });

    it('signs a payout once: a fee replacement at its nonce, never another nonce, also after a crash', async () => {
      const nonce = await anvil.provider.getTransactionCount(hotWallet);
      const amount = 12_500_000n;
      const first = await payoutSigner.client.sign(payout('po_token', amount, nonce));
      expect(first.from).toBe(hotWallet);
      // Not broadcast: it is stuck, say. The replacement (same nonce, higher fees, another request id) is signed…
      const replacement = payout('po_token', amount, nonce, { fees: { max_fee_per_gas: String(4n * GWEI), max_priority_fee_per_gas: String(2n * GWEI) } });
      const replaced = await payoutSigner.client.sign(replacement);
      expect(replaced.hash).not.toBe(first.hash);
      expect(await broadcast(replaced.signed_transaction)).toMatchObject({ status: 1 });
      expect((await usdt.getFunction('balanceOf')(merchant)) as bigint).toBe(amount);
      // …and the same payout at another nonce is not: it could be mined too, and pay twice.
      await refusedPayout(payout('po_token', amount, nonce + 1), new RegExp(`payout po_token was signed before at nonce ${nonce} on ethereum in test mode`));

      await payoutSigner.crashAndRestart();
      await refusedPayout(payout('po_token', amount, nonce + 1), /payout po_token was signed before at nonce/);
      // A repeat answers the same bytes, and another fee version at the payout's nonce is still signed.
      expect(await payoutSigner.client.sign(replacement)).toEqual(replaced);
      const again = await payoutSigner.client.sign(
        payout('po_token', amount, nonce, { fees: { max_fee_per_gas: String(5n * GWEI), max_priority_fee_per_gas: String(3n * GWEI) } }),
      );
      expect(again.from).toBe(hotWallet);
      expect((await usdt.getFunction('balanceOf')(merchant)) as bigint).toBe(amount);
    });

    it('signs a native payout, which the chain carries out', async () => {
      const answer = await payoutSigner.client.sign(
        payout('po_native', parseEther('0.25'), await anvil.provider.getTransactionCount(hotWallet), { currency: 'ETH' }),
      );
      const receipt = await broadcast(answer.signed_transaction);
      expect(receipt).toMatchObject({ status: 1 });
      // The merchant is a fresh address: it holds what the payout sent.
      expect(await anvil.provider.getBalance(merchant, receipt!.blockNumber)).toBe(parseEther('0.25'));
    });

    it('refuses a payout the API did not authorise, one over the cap, and a sweep from the hot wallet; a refused payout fixes no nonce', async () => {
      const nonce = await anvil.provider.getTransactionCount(hotWallet);
      await refusedPayout(
        payout('po_forged', 20_000_000n, nonce, { authorisedAmount: 2_000_000n }),
        /payout po_forged's authorization does not match its terms/,
      );
      await refusedPayout(
        payout('po_big', 1_000_000_001n, nonce),
        /a payout of 1000\.000001 USDT is above the 1000\.000000 one may pay on ethereum in test mode \(INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_TEST\)/,
      );
      await refusedPayout(ask({ from: { wallet: 'hot' }, tx: { to: hotWallet, value: '1000' } }), /a sweep is sent from a deposit address/);
      // po_forged was refused at `nonce`: put right, it is signed at another.
      expect((await payoutSigner.client.sign(payout('po_forged', 2_000_000n, nonce + 1))).from).toBe(hotWallet);
    });

    it('logs the payout id in each audit line', async () => {
      const entries: AuditEntry[] = [];
      expect(await verifyAuditLog(payoutSigner.env.INFLOW_SIGNER_AUDIT_LOG!, (entry) => entries.push(entry))).toMatchObject({ ok: true });
      const token = entries.filter((entry) => entry.payout_id === 'po_token');
      expect(token.map((entry) => [entry.decision, entry.rule])).toEqual([
        ['signed', null],
        ['signed', null],
        ['refused', 'payout_once'],
        ['refused', 'payout_once'],
        ['signed', null],
        ['signed', null],
      ]);
      expect(token[0]).toMatchObject({
        kind: 'payout',
        from: hotWallet,
        to: usdtAddress,
        value: '0',
        token: { contract: usdtAddress, currency: 'USDT', recipient: merchant, amount: '12500000' },
        decision: 'signed',
        workflow_id: 'payout:po_token',
      });
      expect(token[4]).toMatchObject({ repeat: true });
      expect(entries.find((entry) => entry.rule === 'sweep_from')).toMatchObject({ kind: 'sweep', payout_id: null });
      expect(entries.find((entry) => entry.payout_id === 'po_native')).toMatchObject({
        decision: 'signed',
        to: merchant,
        value: String(parseEther('0.25')),
        token: null,
      });
    });
  });

  function raw(method: string, urlPath: string, body?: string): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const outgoing = request({ socketPath: env.INFLOW_SIGNER_SOCKET!, method, path: urlPath, headers: { Authorization: `Bearer ${secret}` } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
});
