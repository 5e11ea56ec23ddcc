/**
 * Tron sweeps on the Tron stand-in (docs/treasury.md#tron-sweeps): the real signer process with the
 * test mnemonic, inflow's worker watching the stand-in and running sweep workflows on the Temporal
 * dev server, Postgres. Customers are paid in USDT and TRX; a sweep run moves it all to the
 * treasury, its energy burned from TRX topped up by the gas wallet, or lent from the gas wallet's
 * stake and taken back. The oracle is the chain: balances, accounts and transaction infos read from
 * the stand-in's java-tron endpoints, against the holdings ledger.
 */
import { Wallet } from 'ethers';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { signTransactionId } from '../../dev/devnet/tron-signing';
import { buildCustomer, buildMerchant } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { decodeRawData, encodeRawData, tronAddressOfKey } from '../../src/chains/tron/transaction';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { holdingsInvariantViolations } from '../../src/treasury/holdings.repository';
import { reconcile } from '../../src/treasury/reconcile';
import { SignerUnavailableError, type TronSignRequest } from '../../src/treasury/signer-client';
import {
  confirmSweepTransaction,
  planSweeps,
  prepareSweep,
  sendSweepTransaction,
  type TreasuryDeps,
  type TronTreasury,
} from '../../src/treasury/sweeps.service';
import { hex41 } from '../../src/treasury/tron-chain';
import { createTreasuryDeps } from '../../src/treasury/treasury-deps';
import { chainWatcherWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import { runSweepsNow } from '../../src/workflows/client';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { testTronGasWalletKey, tronOracle } from '../helpers/tron-oracle';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180_000);

const TRX = 1_000_000n;

describe('Tron sweeps (the Tron stand-in, the signer process, worker, Temporal dev server, Postgres)', () => {
  let tron: RunningTronDevnet;
  let signer: TestSigner;
  let stack: TestStack;
  let treasuryDeps: TreasuryDeps;
  let miner: NodeJS.Timeout;
  let merchant: CreatedMerchant;
  let gasWallet: string;
  const treasury = tronAddressOfKey(Wallet.createRandom().privateKey);
  const gasWalletKey = testTronGasWalletKey;
  const { call, trxOf, usdtOf, infoOf } = tronOracle(() => tron);
  const holding = async (account: string, currency: string, address?: string) => {
    let query = stack.database.db
      .selectFrom('holdings_entries')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('sum'))
      .where('network', '=', 'tron')
      .where('account', '=', account as never)
      .where('currency', '=', currency);
    if (address) query = query.where('address', '=', address);
    return BigInt((await query.executeTakeFirstOrThrow()).sum);
  };
  const sentOfSweep = (sweepId: string) => stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('sweep_id', '=', sweepId).execute();
  const sweepAll = () => runSweepsNow({ temporal: stack.dev.client, taskQueue: stack.taskQueue }, { livemode: false, network: 'tron' });
  /** The step the workflow repeats every 2 s, repeated here until the transaction is final. */
  const untilFinal = async (sentId: string) => {
    let state = '';
    await waitFor('the transaction final', async () => {
      state = (await confirmSweepTransaction(treasuryDeps, sentId)).state;
      return state !== 'waiting';
    });
    return state;
  };

  beforeAll(async () => {
    tron = await startTronDevnet({ port: await freePort() });
    tron.mine(2);
    signer = await startTestSigner({ INFLOW_TREASURY_TRON_TEST: treasury, INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress });
    const env = {
      INFLOW_RPC_URL_TRON_TEST: tron.rpcUrl,
      INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
      INFLOW_CONFIRMATIONS_TRON_TEST: '2',
      // What a burn leaves of its top-up's margin at a deposit address is not worth its own sweep.
      INFLOW_SWEEP_MIN_TRON_TRX_TEST: '5',
      INFLOW_CHAIN_POLL_MS: '100',
      INFLOW_SIGNER_SOCKET: signer.env.INFLOW_SIGNER_SOCKET!,
      INFLOW_SIGNER_SECRET: signer.secret,
    };
    stack = await startTestStack('tron-sweeps', { namespace: isolatedNamespaces.tronTreasury, env, chainWatchers: true, api: false });
    treasuryDeps = { db: stack.database.db, ...createTreasuryDeps(stack.worker.config) };
    merchant = await buildMerchant(stack.database.db, 'Tron sweeps');
    const watcher = stack.dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'tron' }));
    await waitFor('watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
    // Blocks keep coming, as on a real chain: 19 confirmations need them.
    miner = setInterval(() => tron.mine(), 100);
    gasWallet = (await treasuryDeps.signer!.health()).tron_gas_wallets.test!;
    // The operator funds the gas wallet (by hand).
    tron.transfer(gasWallet, 200_000n * TRX, 'TRX');
  });

  afterAll(async () => {
    clearInterval(miner);
    await stack?.dev.client.workflow
      .getHandle(chainWatcherWorkflowId({ livemode: false, network: 'tron' }))
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
    if (stack) {
      expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
      expect(await holdingsInvariantViolations(stack.database.db)).toEqual([]);
    }
    await stack?.database.destroy();
    await signer?.stop();
    await tron?.stop();
  });

  /** Pays a new customer's Tron address from the stand-in's funded account and waits for the deposit to complete. */
  const payCustomer = async (currency: 'USDT' | 'TRX', amount: bigint) => {
    const { customer } = await buildCustomer(stack.database.db, { merchant });
    const address = customer.addresses.find((entry) => entry.network === 'tron')!.address;
    tron.transfer(address, amount, currency);
    await waitFor(
      `${currency} deposit to ${address} completed`,
      async () => {
        const row = await stack.database.db
          .selectFrom('deposits')
          .select('status')
          .where('address', '=', address)
          .where('currency', '=', currency)
          .executeTakeFirst();
        return row?.status === 'completed';
      },
      60_000,
    );
    return address;
  };

  /** What reconciliation says of the Tron holdings now: every address the ledger knows of, against the chain. */
  const reconcileTron = () => reconcile(treasuryDeps, { livemode: false, network: 'tron', runId: `test:${Date.now()}` });

  it('sweeps USDT (TRX topped up for the energy it burns) and TRX to the treasury, and books each fee the chain burned', async () => {
    const paid = [await payCustomer('USDT', 5n * TRX), await payCustomer('USDT', 7n * TRX)];
    const trxPaid = await payCustomer('TRX', 50n * TRX);
    // The deposit addresses that hold only USDT have no account yet: tokens alone do not create one.
    for (const address of paid) expect(await call('/wallet/getaccount', { address, visible: true })).toEqual({});

    expect(await sweepAll()).toEqual({ planned: 3, completed: 3, skipped: 0, failed: 0 });

    // The chain: the treasury holds every USDT paid, and the TRX less what its transfer burned.
    expect(await usdtOf(treasury)).toBe(12n * TRX);
    for (const address of paid) expect(await usdtOf(address)).toBe(0n);
    const treasuryTrx = await trxOf(treasury);
    expect(treasuryTrx > 45n * TRX && treasuryTrx < 50n * TRX).toBe(true);

    // The holdings ledger says the same; its fees are what the transaction infos say was burned.
    expect(await holding('treasury', 'USDT', treasury)).toBe(12n * TRX);
    expect(await holding('treasury', 'TRX', treasury)).toBe(treasuryTrx);
    const sweeps = await stack.database.db.selectFrom('sweeps').selectAll().where('network', '=', 'tron').execute();
    expect(sweeps.map((sweep) => [sweep.currency, sweep.energy_source]).sort()).toEqual([
      ['TRX', null],
      ['USDT', 'burn'],
      ['USDT', 'burn'],
    ]);
    const sent = await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('network', '=', 'tron').execute();
    expect(sent.map((row) => `${row.purpose}:${row.status}`).sort()).toEqual([
      'gas_topup:confirmed',
      'gas_topup:confirmed',
      'sweep:confirmed',
      'sweep:confirmed',
      'sweep:confirmed',
    ]);
    let burned = 0n;
    for (const row of sent) {
      const info = await infoOf(row.hash!);
      expect(info.blockNumber).toBe(Number(row.block_number));
      if (row.purpose === 'sweep' && row.to_address === tron.usdtAddress) {
        // All the energy was burned from the TRX topped up, and the transfer succeeded.
        expect(info.receipt).toMatchObject({ result: 'SUCCESS', energy_fee: expect.any(Number) });
        expect(BigInt(info.receipt.energy_fee)).toBe(BigInt(info.receipt.energy_usage_total) * 210n);
      }
      burned += BigInt(info.fee ?? 0);
    }
    expect(await holding('network_fees', 'TRX')).toBe(burned);
    for (const address of [...paid, trxPaid]) expect(await holding('deposit_addresses', 'TRX', address)).toBe(await trxOf(address));
    // A top-up reaching a deposit address is inflow's own money: never a deposit, never credited to the merchant.
    const topUps = sent.filter((row) => row.purpose === 'gas_topup').map((row) => row.hash!);
    expect(await stack.database.db.selectFrom('deposits').select('id').where('transaction_hash', 'in', topUps).execute()).toEqual([]);
    expect(await stack.database.db.selectFrom('deposits').select('id').where('network', '=', 'tron').execute()).toHaveLength(3);

    // The gas wallet's funding (200,000 TRX by hand) is found and booked: it owns what the ledger now says.
    expect(await reconcileTron()).toMatchObject({
      checked: expect.any(Number),
      inFlight: 0,
      differences: [],
      funded: [{ address: gasWallet, currency: 'TRX', amount: (200_000n * TRX).toString() }],
    });
    expect(await holding('gas_wallet', 'TRX', gasWallet)).toBe(await trxOf(gasWallet));
    expect(await holding('funding', 'TRX')).toBe(-200_000n * TRX);
    // No USDT is left to sweep. A top-up planned for a first-time holder's 130 k energy leaves TRX behind when the other sweep made
    // the treasury a holder first (64 k): worth its own TRX sweep, which the next run makes, and the books still match the chain.
    const again = await sweepAll();
    expect(again).toMatchObject({ completed: again.planned, failed: 0 });
    const later = await stack.database.db
      .selectFrom('sweeps')
      .select('currency')
      .where('network', '=', 'tron')
      .where(
        'id',
        'not in',
        sweeps.map((sweep) => sweep.id),
      )
      .execute();
    expect(later.every((sweep) => sweep.currency === 'TRX')).toBe(true);
    expect(await reconcileTron()).toMatchObject({ inFlight: 0, differences: [] });
  });

  it("lends a USDT sweep the gas wallet's staked energy and takes it back: the transfer burns no TRX for energy", async () => {
    // The operator stakes the gas wallet's TRX for energy (by hand: the signer signs no freeze).
    const freeze = await call('/wallet/freezebalancev2', {
      owner_address: gasWallet,
      frozen_balance: Number(100_000n * TRX),
      resource: 'ENERGY',
      visible: true,
    });
    expect(await call('/wallet/broadcasttransaction', { ...freeze, signature: [signTransactionId(freeze.txID, gasWalletKey)] })).toMatchObject({
      result: true,
    });
    await waitFor('the stake mined', async () => (await infoOf(freeze.txID)).blockNumber !== undefined);
    const address = await payCustomer('USDT', 9n * TRX);
    const before = await usdtOf(treasury);
    const gasBefore = await trxOf(gasWallet);

    expect(await sweepAll()).toEqual({ planned: 1, completed: 1, skipped: 0, failed: 0 });

    expect(await usdtOf(treasury)).toBe(before + 9n * TRX);
    expect(await usdtOf(address)).toBe(0n);
    const [sweep] = await stack.database.db.selectFrom('sweeps').selectAll().where('address', '=', address).execute();
    expect(sweep).toMatchObject({ status: 'completed', energy_source: 'delegation' });
    const sent = await sentOfSweep(sweep!.id);
    // Its account created by a top-up (the gas wallet pays the creation), the energy lent, the transfer, the energy taken back.
    expect(Object.fromEntries(sent.map((row) => [row.purpose, row.status]))).toEqual({
      gas_topup: 'confirmed',
      energy_delegation: 'confirmed',
      sweep: 'confirmed',
      energy_reclaim: 'confirmed',
    });
    const transfer = await infoOf(sent.find((row) => row.purpose === 'sweep')!.hash!);
    expect(transfer.receipt).toMatchObject({ result: 'SUCCESS', energy_usage: expect.any(Number) });
    expect(transfer.receipt.energy_fee ?? 0).toBe(0);
    // The gas wallet lent its stake and has it all back: nothing is delegated any more, none of its TRX was spent on energy.
    const account = await call('/wallet/getaccount', { address: gasWallet, visible: true });
    expect(account.account_resource?.delegated_frozenV2_balance_for_energy ?? 0).toBe(0);
    expect(account.frozenV2.find((entry: { type?: string }) => entry.type === 'ENERGY').amount).toBe(Number(100_000n * TRX));
    let gasSpent = 0n;
    for (const row of sent.filter((candidate) => candidate.from_address === gasWallet)) {
      const info = await infoOf(row.hash!);
      gasSpent += BigInt(info.fee ?? 0) + (row.purpose === 'gas_topup' ? decodeTransfer(row.request.raw_data_hex as string) : 0n);
    }
    expect(await trxOf(gasWallet)).toBe(gasBefore - gasSpent);
    // The gas wallet reconciles: what it owns (its balance and its stake) is what the ledger says, its funding booked by the
    // first run above; nothing was funded since.
    expect(await reconcileTron()).toMatchObject({ inFlight: 0, differences: [], funded: [] });
    expect(await holding('gas_wallet', 'TRX', gasWallet)).toBe((await trxOf(gasWallet)) + 100_000n * TRX);
  });

  const decodeTransfer = (rawDataHex: string) => {
    const { contract } = decodeRawData(rawDataHex);
    return contract.type === 'TransferContract' ? contract.amount : 0n;
  };
  it('pays once when the worker is lost after signing and before the broadcast, however often the step is retried', async () => {
    const address = await payCustomer('TRX', 20n * TRX);
    const before = await trxOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'tron' });
    const plan = await prepareSweep(treasuryDeps, planned!.sweepId);
    expect(plan).toMatchObject({ action: 'send' });
    const lost: TreasuryDeps = {
      ...treasuryDeps,
      chainOf: (livemode, network) => {
        const config = treasuryDeps.chainOf(livemode, network) as TronTreasury;
        return { ...config, chain: Object.assign(Object.create(config.chain), { send: () => Promise.reject(new Error('worker lost')) }) };
      },
    };
    await expect(sendSweepTransaction(lost, planned!.sweepId, 'sweep')).rejects.toThrow('worker lost');
    const [recorded] = await sentOfSweep(planned!.sweepId);
    expect(recorded).toMatchObject({ status: 'signed', nonce: null, expires_at: expect.any(Date) });
    // Retried three times at once: the same txID each time, one transaction on the chain.
    const retries = await Promise.all([1, 2, 3].map(() => sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')));
    expect(new Set(retries.map((retry) => retry.hash))).toEqual(new Set([recorded!.hash]));
    expect(await untilFinal(recorded!.id)).toBe('confirmed');
    expect(await trxOf(treasury)).toBe(before + BigInt(plan.action === 'skip' ? 0 : plan.amount));
    expect(await trxOf(address)).toBe(await holding('deposit_addresses', 'TRX', address));
    expect(await holding('deposit_addresses', 'TRX', address)).toBeLessThan(20n * TRX);
  });

  it('pays once when the signer crashes before it is asked and again after it signed: the same request, the same bytes, one transaction', async () => {
    await payCustomer('TRX', 15n * TRX);
    const before = await trxOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'tron' });
    const plan = await prepareSweep(treasuryDeps, planned!.sweepId);
    // kill -9 before the worker asks: the step fails for a retry (the signer names the treasury and the gas wallet, so nothing is even recorded).
    signer.process.signal('SIGKILL');
    try {
      await signer.process.exited;
      await expect(sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')).rejects.toThrow(/signer at .* is unavailable/);
      expect(await sentOfSweep(planned!.sweepId)).toEqual([]);
    } finally {
      await signer.crashAndRestart();
    }
    const sent = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep');
    // kill -9 again, after it signed: asked for the same request, the restarted signer answers the same bytes (from its audit log).
    await signer.crashAndRestart();
    const [recorded] = await sentOfSweep(planned!.sweepId);
    const again = await signer.client.sign({
      ...(recorded!.request as unknown as TronSignRequest),
      request_id: recorded!.id,
      workflow_id: planned!.workflowId,
    });
    expect(again.hash).toBe(sent.hash);
    expect((await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')).hash).toBe(sent.hash);
    expect(await untilFinal(sent.sentId!)).toBe('confirmed');
    expect(await trxOf(treasury)).toBe(before + BigInt(plan.action === 'skip' ? 0 : plan.amount));
    expect((await infoOf(sent.hash!)).blockNumber).toEqual(expect.any(Number));
  });

  it('builds a sweep again when a reorg took it and it expired unmined, and pays the treasury once', async () => {
    const address = await payCustomer('TRX', 30n * TRX);
    const before = await trxOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'tron' });
    const plan = await prepareSweep(treasuryDeps, planned!.sweepId);
    const first = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep');
    await waitFor('the sweep mined', async () => (await infoOf(first.hash!)).blockNumber !== undefined);
    // A reorg takes the sweep's block and the ones around it, its reference block among them: the same bytes can no longer be mined.
    clearInterval(miner);
    const depth = tron.head() - (await infoOf(first.hash!)).blockNumber + 3;
    expect(await call('/devnet/reorg', { depth, drop: [first.hash] })).toMatchObject({});
    expect(await infoOf(first.hash!)).toEqual({});
    const waiting = await confirmSweepTransaction(treasuryDeps, first.sentId!);
    expect(waiting).toMatchObject({ state: 'waiting', confirmations: 0, stuck: expect.stringMatching(/TAPOS_ERROR/) });
    // A minute and a half later the solidified chain is past its expiration: it is built again against a new block.
    tron.advanceClock(90_000);
    miner = setInterval(() => tron.mine(), 100);
    let rebuilt: Awaited<ReturnType<typeof confirmSweepTransaction>> | undefined;
    await waitFor('the sweep built again', async () => {
      rebuilt = await confirmSweepTransaction(treasuryDeps, first.sentId!);
      return rebuilt.state === 'waiting' && rebuilt.replaced !== undefined;
    });
    const replacement = (rebuilt as { replaced: { hash: string; by: string } }).replaced;
    expect(replacement.hash).toBe(first.hash);
    expect(await untilFinal(first.sentId!)).toBe('confirmed');
    // The final chain: the new version mined, the first never; the treasury paid once.
    expect((await infoOf(replacement.by)).blockNumber).toEqual(expect.any(Number));
    expect(await infoOf(first.hash!)).toEqual({});
    expect(await trxOf(treasury)).toBe(before + BigInt(plan.action === 'skip' ? 0 : plan.amount));
    expect(await holding('treasury', 'TRX', treasury)).toBe(await trxOf(treasury));
    expect(await holding('deposit_addresses', 'TRX', address)).toBe(await trxOf(address));
    const [row] = await sentOfSweep(planned!.sweepId);
    expect(row).toMatchObject({ hash: replacement.by, replacements: 1, status: 'confirmed' });
  });

  it('fails a sweep whose recorded request was changed to pay someone else: the signer refuses, nothing moves', async () => {
    const address = await payCustomer('TRX', 10n * TRX);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'tron' });
    await prepareSweep(treasuryDeps, planned!.sweepId);
    // The signer away: the request is recorded, nothing signed.
    const away: TreasuryDeps = {
      ...treasuryDeps,
      signer: Object.assign(Object.create(treasuryDeps.signer!), { sign: () => Promise.reject(new SignerUnavailableError('signer away')) }),
    };
    await expect(sendSweepTransaction(away, planned!.sweepId, 'sweep')).rejects.toThrow('signer away');
    const [recorded] = await sentOfSweep(planned!.sweepId);
    // Someone with the database's keys rewrites it to pay their own address.
    const thief = tronAddressOfKey(Wallet.createRandom().privateKey);
    const raw = decodeRawData(recorded!.request.raw_data_hex as string);
    const tampered = Buffer.from(encodeRawData({ ...raw, contract: { ...raw.contract, to_address: hex41(thief) } as typeof raw.contract })).toString('hex');
    await stack.database.db
      .updateTable('treasury_transactions_sent')
      .set({ request: JSON.stringify({ ...recorded!.request, raw_data_hex: tampered }) })
      .where('id', '=', recorded!.id)
      .execute();
    await expect(sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')).rejects.toThrow(/may only pay tron in test mode's treasury/);
    expect((await sentOfSweep(planned!.sweepId))[0]).toMatchObject({ status: 'refused', hash: null });
    expect(await trxOf(thief)).toBe(0n);
    expect(await trxOf(address)).toBe(10n * TRX);
  });
});
