/**
 * Sweeps on a real chain (docs/treasury.md): anvil with a test USDT, the real signer process with
 * the test mnemonic, inflow's worker watching anvil and running sweep workflows on the Temporal dev
 * server, Postgres. Customers are paid in USDT and ETH; a sweep run moves it all to the treasury,
 * topping up gas from the gas wallet first. The oracle is the chain: balances and receipts read
 * from anvil, against the holdings ledger.
 */
import { randomBytes } from 'node:crypto';
import { Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { sql } from 'kysely';
import { buildCustomer, buildMerchant, buildTransfer, testSecretKeyHex, testXpubEnv } from '../../dev/fixtures';
import { completeDeposit, recordDetectedDeposit } from '../../src/deposits/transitions';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { freePort } from '../../dev/tools/ports';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { holdingsInvariantViolations } from '../../src/treasury/holdings.repository';
import { allocateSentTransaction, insertSweepIfNone, releaseRefusedNonce, treasuryHealth } from '../../src/treasury/sweeps.repository';
import { newId } from '../../src/domain/ids';
import { createTreasuryDeps } from '../../src/treasury/treasury-deps';
import { createPriceSources } from '../../src/prices/sources';
import { reconcile } from '../../src/treasury/reconcile';
import {
  confirmSweepTransaction,
  finishSweep,
  prepareSweep,
  sendSweepTransaction as sendOrSkip,
  planSweeps,
  type TreasuryChain,
  type TreasuryDeps,
} from '../../src/treasury/sweeps.service';
import { chainWatcherWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import { runSweepsNow } from '../../src/workflows/client';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { npmRun } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { startReceiver } from '../helpers/receiver';
import { verifyWebhook } from '../../src/domain/signatures';

jest.setTimeout(180_000);

const CONFIRMATIONS = 2;
/** Sweeps book at ethereum's own 12 confirmations however few deposits need (sweepConfirmations). */
const SWEEP_DEPTH = 12;

/** A transaction these tests expect to be sent (a top-up no longer needed answers `sentId: null`, tested on its own). */
async function sendSweepTransaction(...args: Parameters<typeof sendOrSkip>): Promise<{ sentId: string; hash: string }> {
  const sent = await sendOrSkip(...args);
  if (sent.sentId === null) throw new Error(`${args[2]} of ${args[1]} was not sent`);
  return sent;
}

describe('sweeps (anvil, the signer process, worker, Temporal dev server, Postgres)', () => {
  let anvil: RunningAnvil;
  let funder: NonceManager;
  let usdt: Contract;
  let signer: TestSigner;
  let stack: TestStack;
  let treasuryDeps: TreasuryDeps;
  let miner: NodeJS.Timeout;
  const treasury = Wallet.createRandom().address;
  let merchant: CreatedMerchant;
  /** What the operator's commands need to reach this stack: its database, Temporal, chains and signer. */
  let cliEnv: Record<string, string>;
  /** The operator's webhook receiver (INFLOW_OPERATOR_WEBHOOK_URL), on loopback. */
  let operator: Awaited<ReturnType<typeof startReceiver>>;
  const operatorSecret = `whsec_${randomBytes(32).toString('base64')}`;

  const usdtOf = async (address: string) => (await usdt.getFunction('balanceOf')(address)) as bigint;
  const holding = async (account: string, currency: string, address?: string) => {
    let query = stack.database.db
      .selectFrom('holdings_entries')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('sum'))
      .where('account', '=', account as never)
      .where('currency', '=', currency);
    if (address) query = query.where('address', '=', address);
    return BigInt((await query.executeTakeFirstOrThrow()).sum);
  };

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    funder = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(funder);
    signer = await startTestSigner({
      INFLOW_TREASURY_ETHEREUM_TEST: treasury,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
    });
    operator = await startReceiver();
    const env = {
      INFLOW_OPERATOR_WEBHOOK_URL: operator.url,
      INFLOW_OPERATOR_WEBHOOK_SECRET: operatorSecret,
      INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_CONFIRMATIONS_ETHEREUM_TEST: String(CONFIRMATIONS),
      INFLOW_CHAIN_POLL_MS: '100',
      INFLOW_SIGNER_SOCKET: signer.env.INFLOW_SIGNER_SOCKET!,
      INFLOW_SIGNER_SECRET: signer.secret,
    };
    stack = await startTestStack('sweeps', { namespace: isolatedNamespaces.treasury, env, chainWatchers: true, api: false });
    cliEnv = {
      ...env,
      ...testXpubEnv(),
      DATABASE_URL: stack.database.url,
      INFLOW_SECRET_KEY: testSecretKeyHex,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      TEMPORAL_NAMESPACE: isolatedNamespaces.treasury,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
    treasuryDeps = { db: stack.database.db, ...createTreasuryDeps(stack.worker.config) };
    // anvil's funded accounts are this mnemonic's first customer addresses: these customers come after them.
    await sql`select setval('customer_address_index_test_seq', 100)`.execute(stack.database.db);
    merchant = await buildMerchant(stack.database.db, 'Sweeps');
    const watcher = stack.dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    await waitFor('watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
    // Blocks keep coming, as on a real chain: confirmations need them.
    miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), 250);
    const health = await treasuryDeps.signer!.health();
    await (await funder.sendTransaction({ to: health.gas_wallets.test!, value: 10n ** 18n })).wait();
  });

  afterAll(async () => {
    clearInterval(miner);
    await stack?.dev.client.workflow
      .getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }))
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
    if (stack) {
      expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
      expect(await holdingsInvariantViolations(stack.database.db)).toEqual([]);
    }
    await stack?.database.destroy();
    await signer?.stop();
    await anvil?.stop();
    await operator?.close();
  });

  /** Pays a new customer on anvil and waits for its deposit to complete. */
  const payCustomer = async (currency: 'USDT' | 'ETH', amount: bigint) => {
    const { customer } = await buildCustomer(stack.database.db, { merchant });
    const address = customer.addresses.find((entry) => entry.network === 'ethereum')!.address;
    if (currency === 'USDT') await (await usdt.getFunction('transfer')(address, amount)).wait();
    else await (await funder.sendTransaction({ to: address, value: amount })).wait();
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

  it('sweeps every paid address to the treasury, topping up gas first, and books it where the chain says it is', async () => {
    const paid = [await payCustomer('USDT', 2_000_000n), await payCustomer('USDT', 3_000_000n), await payCustomer('USDT', 5_000_000n)];
    const ethPaid = await payCustomer('ETH', 5n * 10n ** 16n);

    const result = await runSweepsNow({ temporal: stack.dev.client, taskQueue: stack.taskQueue }, { livemode: false, network: 'ethereum' });
    expect(result).toEqual({ planned: 4, completed: 4, skipped: 0, failed: 0 });

    // The chain: the treasury holds every USDT paid, each address none.
    expect(await usdtOf(treasury)).toBe(10_000_000n);
    for (const address of paid) expect(await usdtOf(address)).toBe(0n);
    const treasuryEth = await anvil.provider.getBalance(treasury);
    expect(treasuryEth > 0n && treasuryEth < 5n * 10n ** 16n).toBe(true);

    // The holdings ledger says the same, and its fees are the receipts' fees.
    expect(await holding('treasury', 'USDT', treasury)).toBe(10_000_000n);
    expect(await holding('treasury', 'ETH', treasury)).toBe(treasuryEth);
    for (const address of paid) expect(await holding('deposit_addresses', 'USDT', address)).toBe(0n);
    const sent = await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().execute();
    expect(sent.map((row) => row.status).sort()).toEqual(Array(7).fill('confirmed'));
    let fees = 0n;
    for (const row of sent) {
      const receipt = (await anvil.provider.getTransactionReceipt(row.hash!))!;
      expect(receipt.status).toBe(1);
      fees += receipt.gasUsed * receipt.gasPrice;
      // What each address holds on the chain is what the ledger says it holds.
    }
    expect(await holding('network_fees', 'ETH')).toBe(fees);
    for (const address of [...paid, ethPaid]) {
      expect(await holding('deposit_addresses', 'ETH', address)).toBe(await anvil.provider.getBalance(address));
    }
    // A top-up reaching a deposit address is inflow's own money: never a deposit, never credited to the merchant.
    const topUpHashes = sent.filter((row) => row.purpose === 'gas_topup').map((row) => row.hash!);
    expect(await stack.database.db.selectFrom('deposits').select('id').where('transaction_hash', 'in', topUpHashes).execute()).toEqual([]);
    expect(await stack.database.db.selectFrom('deposits').select('id').where('currency', '=', 'ETH').execute()).toHaveLength(1);
    // Three top-ups from the gas wallet, nonces in order and each used once.
    const topUps = sent
      .filter((row) => row.purpose === 'gas_topup')
      .map((row) => Number(row.nonce))
      .sort((a, b) => a - b);
    expect(topUps).toEqual([0, 1, 2]);

    // Nothing is left worth sweeping: a second run plans nothing.
    expect(await runSweepsNow({ temporal: stack.dev.client, taskQueue: stack.taskQueue }, { livemode: false, network: 'ethereum' })).toMatchObject({
      planned: 0,
    });
  });

  it('pays once when the worker is lost after signing and before the broadcast, however often the step is retried', async () => {
    const address = await payCustomer('USDT', 7_000_000n);
    const before = await usdtOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, planned!.sweepId)).toMatchObject({ action: 'top_up', amount: '7000000' });
    // The gas first, as the workflow would.
    const topUp = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'gas_topup');
    await waitFor('the top-up mined', async () => (await anvil.provider.getTransactionReceipt(topUp.hash)) !== null);

    // A chain whose node is lost after the signature is recorded: the broadcast fails.
    const lost: TreasuryDeps = {
      ...treasuryDeps,
      chainOf: (livemode, network) => {
        const config = treasuryDeps.chainOf(livemode, network)!;
        return { ...config, chain: Object.assign(Object.create(config.chain), { send: () => Promise.reject(new Error('worker lost')) }) };
      },
    };
    await expect(sendSweepTransaction(lost, planned!.sweepId, 'sweep')).rejects.toThrow('worker lost');
    const recorded = await stack.database.db
      .selectFrom('treasury_transactions_sent')
      .selectAll()
      .where('sweep_id', '=', planned!.sweepId)
      .where('purpose', '=', 'sweep')
      .executeTakeFirstOrThrow();
    expect(recorded).toMatchObject({ status: 'signed' });
    // Retried three times: the same bytes each time, one transaction on the chain.
    const retries = await Promise.all([1, 2, 3].map(() => sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')));
    expect(new Set(retries.map((retry) => retry.hash))).toEqual(new Set([recorded.hash]));
    await waitFor('the sweep mined', async () => (await anvil.provider.getTransactionReceipt(recorded.hash!)) !== null);
    expect(await usdtOf(treasury)).toBe(before + 7_000_000n);
    expect(await usdtOf(address)).toBe(0n);
    expect(await anvil.provider.getTransactionCount(address)).toBe(1);
  });

  it('sends the same bytes again when the node forgets a sweep before it is mined, and pays once', async () => {
    const address = await payCustomer('USDT', 6_000_000n);
    const before = await usdtOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    await prepareSweep(treasuryDeps, planned!.sweepId);
    const topUp = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'gas_topup');
    await waitFor('the top-up final', async () => (await confirmSweepTransaction(treasuryDeps, topUp.sentId)).state === 'confirmed');
    // Blocks stop while the sweep is in the mempool, and the node drops it (a restart, an eviction).
    clearInterval(miner);
    await anvil.provider.send('evm_setAutomine', [false]);
    let sweep: { sentId: string; hash: string };
    try {
      sweep = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep');
      const inPool = async () => ((await anvil.provider.send('eth_getTransactionByHash', [sweep.hash])) as { hash: string } | null)?.hash;
      await anvil.provider.send('anvil_dropTransaction', [sweep.hash]);
      expect(await inPool()).toBeUndefined();
      // The next check finds it gone and sends the recorded bytes again: the same hash.
      expect(await confirmSweepTransaction(treasuryDeps, sweep.sentId)).toEqual({ state: 'waiting', confirmations: 0 });
      expect(await inPool()).toBe(sweep.hash);
    } finally {
      await anvil.provider.send('evm_setAutomine', [true]);
      miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), 250);
    }
    await waitFor('the sweep final', async () => (await confirmSweepTransaction(treasuryDeps, sweep.sentId)).state === 'confirmed');
    expect(await usdtOf(treasury)).toBe(before + 6_000_000n);
    expect(await usdtOf(address)).toBe(0n);
    expect(await anvil.provider.getTransactionCount(address)).toBe(1);
    expect(await holding('deposit_addresses', 'USDT', address)).toBe(0n);
    await finishSweep(treasuryDeps, planned!.sweepId, { completed: true });
  });

  /** The same treasury, but a transaction unmined for two blocks is stuck. */
  const impatient = (): TreasuryDeps => ({
    ...treasuryDeps,
    chainOf: (livemode, network) => {
      const chain = treasuryDeps.chainOf(livemode, network);
      return chain && { ...chain, stuckAfterBlocks: 2 };
    },
  });
  const pooled = async (hash: string) =>
    ((await anvil.provider.send('eth_getTransactionByHash', [hash])) as { hash: string; blockNumber: string | null } | null) ?? undefined;
  /** Mines a block whose base fee is above `fee`: a transaction offering at most `fee` per gas cannot be in it. */
  const mineAbove = async (fee: bigint) => {
    await anvil.provider.send('anvil_setNextBlockBaseFeePerGas', [`0x${(fee + 1n).toString(16)}`]);
    await anvil.provider.send('evm_mine', []);
  };
  /** Stops the blocks and automining for `body`, and brings both back however it ends. */
  const withoutBlocks = async <T>(body: () => Promise<T>): Promise<T> => {
    clearInterval(miner);
    await anvil.provider.send('evm_setAutomine', [false]);
    try {
      return await body();
    } finally {
      await anvil.provider.send('evm_setAutomine', [true]);
      miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), 250);
    }
  };

  it('replaces a sweep stuck under a rising base fee with a higher fee and the same nonce; the replacement pays the treasury once', async () => {
    const deps = impatient();
    const address = await payCustomer('ETH', 3n * 10n ** 16n);
    const before = await anvil.provider.getBalance(treasury);
    const [planned] = await planSweeps(deps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(deps, planned!.sweepId)).toMatchObject({ action: 'send' });
    const { sweep, replacement } = await withoutBlocks(async () => {
      const sweep = await sendSweepTransaction(deps, planned!.sweepId, 'sweep');
      const offered = BigInt(((await pooled(sweep.hash)) as unknown as { maxFeePerGas: string }).maxFeePerGas);
      // The chain's base fee rises above what the transaction offers, for two blocks: it is stuck (anvil evicts it, as nodes may).
      await mineAbove(offered);
      await mineAbove(offered);
      expect(await anvil.provider.getTransactionReceipt(sweep.hash)).toBeNull();
      const confirmation = await confirmSweepTransaction(deps, sweep.sentId);
      expect(confirmation).toMatchObject({ state: 'waiting', replaced: { hash: sweep.hash } });
      const replacement = (confirmation as { replaced: { by: string } }).replaced.by;
      expect(replacement).not.toBe(sweep.hash);
      // The node holds the replacement in its place (same sender, same nonce).
      expect(await pooled(sweep.hash)).toBeUndefined();
      expect((await pooled(replacement))?.hash).toBe(replacement);
      return { sweep, replacement };
    });
    await waitFor('the replacement final', async () => (await confirmSweepTransaction(deps, sweep.sentId)).state === 'confirmed');
    await finishSweep(deps, planned!.sweepId, { completed: true });
    // The chain: nonce 0 used once, by the replacement; the first version never mined.
    expect(await anvil.provider.getTransactionCount(address)).toBe(1);
    expect(await anvil.provider.getTransactionReceipt(sweep.hash)).toBeNull();
    expect((await anvil.provider.getTransactionReceipt(replacement))?.status).toBe(1);
    const row = await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('id', '=', sweep.sentId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ hash: replacement, replacements: 1, status: 'confirmed' });
    // What it moved is what the replacement says (its higher gas came out of it), and the books say what the chain does.
    const moved = BigInt((row.request as { tx: { value: string } }).tx.value);
    expect((await anvil.provider.getBalance(treasury)) - before).toBe(moved);
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(await anvil.provider.getBalance(address));
  });

  it('books the first version when it is the one mined after a replacement, and never takes the top-up for a payment', async () => {
    const deps = impatient();
    const address = await payCustomer('USDT', 7_000_000n);
    const { gas_wallets } = await treasuryDeps.signer!.health();
    const gasWallet = gas_wallets.test!;
    const nonceBefore = await anvil.provider.getTransactionCount(gasWallet);
    const [planned] = await planSweeps(deps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(deps, planned!.sweepId)).toMatchObject({ action: 'top_up' });
    const { topUp, replacement } = await withoutBlocks(async () => {
      const topUp = await sendSweepTransaction(deps, planned!.sweepId, 'gas_topup');
      const offered = BigInt(((await pooled(topUp.hash)) as unknown as { maxFeePerGas: string }).maxFeePerGas);
      await mineAbove(offered);
      await mineAbove(offered);
      const confirmation = await confirmSweepTransaction(deps, topUp.sentId);
      expect(confirmation).toMatchObject({ state: 'waiting', replaced: { hash: topUp.hash } });
      const replacement = (confirmation as { replaced: { by: string } }).replaced.by;
      // The replacement is lost, the first version is broadcast again (by anyone: signed bytes are public) and mined.
      await anvil.provider.send('anvil_dropTransaction', [replacement]);
      const [first] = await stack.database.db.selectFrom('treasury_sent_replaced').selectAll().where('sent_id', '=', topUp.sentId).execute();
      expect(first).toMatchObject({ hash: topUp.hash, version: 0 });
      await anvil.provider.send('eth_sendRawTransaction', [first!.signed_transaction]);
      await anvil.provider.send('anvil_setNextBlockBaseFeePerGas', ['0x1']);
      await anvil.provider.send('evm_mine', []);
      expect((await anvil.provider.getTransactionReceipt(topUp.hash))?.status).toBe(1);
      return { topUp, replacement };
    });
    await waitFor('the top-up final', async () => (await confirmSweepTransaction(deps, topUp.sentId)).state === 'confirmed');
    expect(await anvil.provider.getTransactionReceipt(replacement)).toBeNull();
    expect(await anvil.provider.getTransactionCount(gasWallet)).toBe(nonceBefore + 1);
    // Booked from the version mined: the address holds on the chain what the ledger says.
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(await anvil.provider.getBalance(address));
    // The watcher has scanned past the top-up's block, and took it for no one's payment.
    const minedAt = (await anvil.provider.getTransactionReceipt(topUp.hash))!.blockNumber;
    const watcher = stack.dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    await waitFor('the watcher past the top-up', async () => ((await watcher.query(watcherStateQuery)).nextBlock ?? 0) > minedAt);
    const credited = await stack.database.db.selectFrom('deposits').select('id').where('address', '=', address).where('currency', '=', 'ETH').execute();
    expect(credited).toEqual([]);
    // The sweep itself goes on as usual.
    const sweep = await sendSweepTransaction(deps, planned!.sweepId, 'sweep');
    await waitFor('the sweep final', async () => (await confirmSweepTransaction(deps, sweep.sentId)).state === 'confirmed');
    await finishSweep(deps, planned!.sweepId, { completed: true });
    expect(await usdtOf(address)).toBe(0n);
  });

  it('signs a token sweep at a fee its top-up can pay when the quote has risen tenfold since the top-up, and pays once', async () => {
    const address = await payCustomer('USDT', 9_000_000n);
    const before = await usdtOf(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, planned!.sweepId)).toMatchObject({ action: 'top_up' });
    const topUp = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'gas_topup');
    await waitFor('the top-up final', async () => (await confirmSweepTransaction(treasuryDeps, topUp.sentId)).state === 'confirmed');
    // The node now suggests ten times the tip it did (the chaos run met it: anvil's suggestion after a restart).
    const risen: TreasuryDeps = {
      ...treasuryDeps,
      chainOf: (livemode, network) => {
        const config = treasuryDeps.chainOf(livemode, network) as TreasuryChain;
        const feeQuote = async () => {
          const quote = await config.chain.feeQuote();
          return { maxFeePerGas: quote.maxFeePerGas * 10n, maxPriorityFeePerGas: quote.maxPriorityFeePerGas * 10n };
        };
        return { ...config, chain: Object.assign(Object.create(config.chain), { feeQuote }) };
      },
    };
    // At the risen quote the node would refuse it (insufficient funds), at every retry: it offers what the address holds for gas instead.
    const forGas = await anvil.provider.getBalance(address);
    const sweep = await sendSweepTransaction(risen, planned!.sweepId, 'sweep');
    const row = await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('id', '=', sweep.sentId).executeTakeFirstOrThrow();
    const { tx } = row.request as { tx: { gas_limit: string; max_fee_per_gas: string; max_priority_fee_per_gas: string } };
    const { maxFeePerGas } = await (risen.chainOf(false, 'ethereum') as TreasuryChain).chain.feeQuote();
    expect(BigInt(tx.max_fee_per_gas)).toBeLessThan(maxFeePerGas);
    expect(BigInt(tx.gas_limit) * BigInt(tx.max_fee_per_gas)).toBeLessThanOrEqual(forGas);
    expect(BigInt(tx.max_priority_fee_per_gas)).toBeLessThanOrEqual(BigInt(tx.max_fee_per_gas));
    await waitFor('the sweep final', async () => (await confirmSweepTransaction(risen, sweep.sentId)).state === 'confirmed');
    await finishSweep(risen, planned!.sweepId, { completed: true });
    expect(await usdtOf(treasury)).toBe(before + 9_000_000n);
    expect(await usdtOf(address)).toBe(0n);
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(await anvil.provider.getBalance(address));
  });

  it('leaves a simulated deposit out of the holdings ledger: credited to the merchant, but nothing is at its address to sweep or reconcile', async () => {
    const owner = await buildCustomer(stack.database.db, { merchant });
    const { deposit } = await recordDetectedDeposit(stack.database.db, buildTransfer(owner, { amount: '5' }));
    await completeDeposit(stack.database.db, deposit.id, { confirmations: 12, priceUsd: '1.00' });
    const address = owner.customer.addresses.find((entry) => entry.network === 'ethereum')!.address;
    expect(await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' })).toEqual([]);
    expect(await holding('deposit_addresses', 'USDT', address)).toBe(0n);
    // What came in is what the chain brought: the paid deposits, not the simulated one.
    const paid = await stack.database.db
      .selectFrom('deposits')
      .select((eb) => eb.fn.sum<string>('amount').as('sum'))
      .where('currency', '=', 'USDT')
      .where('status', '=', 'completed')
      .where('simulated', '=', false)
      .executeTakeFirstOrThrow();
    expect(await holding('received', 'USDT')).toBe(-BigInt(paid.sum));
  });

  it("books a sweep only at ethereum's own depth, past the deposits' INFLOW_CONFIRMATIONS, where a reorg still sends it again", async () => {
    expect(treasuryDeps.chainOf(false, 'ethereum')!.confirmations).toBe(SWEEP_DEPTH);
    const address = await payCustomer('ETH', 4n * 10n ** 16n);
    const before = await anvil.provider.getBalance(treasury);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, planned!.sweepId)).toMatchObject({ action: 'send' });
    const sweep = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep');
    const depth = async () => {
      const receipt = await anvil.provider.getTransactionReceipt(sweep.hash);
      return receipt ? (await anvil.provider.getBlockNumber()) - receipt.blockNumber + 1 : 0;
    };
    await waitFor("the sweep at the deposits' confirmations", async () => (await depth()) >= CONFIRMATIONS);
    // Deep enough for a deposit (which a deeper reorg reverses), not for a sweep (never looked at once booked):
    // nothing is booked yet, and a chain that loses it now gets the same bytes again (as when the node forgets it, above).
    expect(await confirmSweepTransaction(treasuryDeps, sweep.sentId)).toMatchObject({ state: 'waiting' });
    const row = async () => stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('id', '=', sweep.sentId).executeTakeFirstOrThrow();
    expect((await row()).status).toBe('broadcast');
    await waitFor('the sweep final', async () => (await confirmSweepTransaction(treasuryDeps, sweep.sentId)).state === 'confirmed', 30_000);
    expect(await depth()).toBeGreaterThanOrEqual(SWEEP_DEPTH);
    await finishSweep(treasuryDeps, planned!.sweepId, { completed: true });
    const { request } = await row();
    expect((await anvil.provider.getBalance(treasury)) - before).toBe(BigInt((request as { tx: { value: string } }).tx.value));
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(await anvil.provider.getBalance(address));
  });

  it('fails a sweep whose recorded request was changed to pay someone else: the signer refuses, nothing moves', async () => {
    const address = await payCustomer('ETH', 2n * 10n ** 16n);
    const thief = Wallet.createRandom().address;
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, planned!.sweepId)).toMatchObject({ action: 'send' });
    // Allocate, then tamper with what is to be signed, as a compromised worker or database could.
    await expect(
      sendSweepTransaction(
        { ...treasuryDeps, signer: Object.assign(Object.create(treasuryDeps.signer!), { sign: () => Promise.reject(new Error('stop before signing')) }) },
        planned!.sweepId,
        'sweep',
      ),
    ).rejects.toThrow('stop before signing');
    const row = await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('sweep_id', '=', planned!.sweepId).executeTakeFirstOrThrow();
    const request = row.request as { tx: Record<string, unknown> };
    await stack.database.db
      .updateTable('treasury_transactions_sent')
      .set({ request: JSON.stringify({ ...request, tx: { ...request.tx, to: thief } }) } as never)
      .where('id', '=', row.id)
      .execute();
    await expect(sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep')).rejects.toMatchObject({ type: 'SignerRefused' });
    expect(await anvil.provider.getBalance(thief)).toBe(0n);
    expect(await anvil.provider.getBalance(address)).toBe(2n * 10n ** 16n);
    // The ledger still has it where it is.
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(2n * 10n ** 16n);
    // Refused, its nonce went back to the address: the next sweep of it takes nonce 0 and is mined, nothing waits behind a gap.
    expect(await stack.database.db.selectFrom('treasury_transactions_sent').select(['status', 'nonce']).where('id', '=', row.id).executeTakeFirst()).toEqual({
      status: 'refused',
      nonce: null,
    });
    await finishSweep(treasuryDeps, planned!.sweepId, { completed: false, reason: 'the signer refused' });
    const [again] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, again!.sweepId)).toMatchObject({ action: 'send' });
    const sweep = await sendSweepTransaction(treasuryDeps, again!.sweepId, 'sweep');
    await waitFor('the next sweep final', async () => (await confirmSweepTransaction(treasuryDeps, sweep.sentId)).state === 'confirmed');
    await finishSweep(treasuryDeps, again!.sweepId, { completed: true });
    expect(await anvil.provider.getTransactionCount(address)).toBe(1);
    // Straight from the node: ethers answers a repeated call from its cache for a moment.
    expect(await holding('deposit_addresses', 'ETH', address)).toBe(BigInt(await anvil.provider.send('eth_getBalance', [address, 'latest'])));
  });

  it("gives a refused nonce back to its sender's next transaction, whether later ones were taken or not", async () => {
    const sender = Wallet.createRandom().address;
    let index = 9000;
    const allocate = async () => {
      const sweep = await insertSweepIfNone(stack.database.db, {
        id: newId('sweep'),
        livemode: false,
        network: 'ethereum',
        currency: 'ETH',
        decimals: 18,
        address: Wallet.createRandom().address,
        address_branch: 'customers',
        address_index: index++,
        merchant_id: merchant.merchant_id,
        treasury,
        // Not under way: these rows only hold the transactions whose nonces are allocated here.
        status: 'skipped',
        workflow_id: `nonce-test-${index}`,
      });
      const input = { sweepId: sweep!.id, purpose: 'gas_topup' as const, livemode: false, network: 'ethereum', from: sender, to: treasury, chainNonce: 0n };
      return allocateSentTransaction(stack.database.db, input, (nonce) => ({ nonce: Number(nonce) }));
    };
    const [first, second] = [await allocate(), await allocate()];
    expect([first.nonce, second.nonce]).toEqual(['0', '1']);
    // Refused while a later one is taken: kept for the next allocation.
    await releaseRefusedNonce(stack.database.db, first);
    const [third, fourth] = [await allocate(), await allocate()];
    expect([third.nonce, fourth.nonce]).toEqual(['0', '2']);
    // Refused as the last one taken: the next allocation takes it again.
    await releaseRefusedNonce(stack.database.db, fourth);
    expect((await allocate()).nonce).toBe('2');
    expect((await allocate()).nonce).toBe('3');
  });

  it('sends no top-up the address no longer needs: its gas arrived another way after the plan', async () => {
    const address = await payCustomer('USDT', 3_000_000n);
    const [planned] = await planSweeps(treasuryDeps, { livemode: false, network: 'ethereum' });
    expect(await prepareSweep(treasuryDeps, planned!.sweepId)).toMatchObject({ action: 'top_up' });
    const nonce = await anvil.provider.getTransactionCount((await treasuryDeps.signer!.health()).gas_wallets.test!);
    // Enough gas reaches the address before the top-up is made (a fee that fell has the same effect).
    await (await funder.sendTransaction({ to: address, value: 10n ** 16n })).wait();
    // (To the chain watcher it is the customer paying ETH: a deposit, completed before anything is reconciled.)
    await waitFor('the ETH deposit completed', async () => {
      const row = await stack.database.db
        .selectFrom('deposits')
        .select('status')
        .where('address', '=', address)
        .where('currency', '=', 'ETH')
        .executeTakeFirst();
      return row?.status === 'completed';
    });
    expect(await sendOrSkip(treasuryDeps, planned!.sweepId, 'gas_topup')).toEqual({ sentId: null, hash: null });
    const sweep = await sendSweepTransaction(treasuryDeps, planned!.sweepId, 'sweep');
    await waitFor('the sweep final', async () => (await confirmSweepTransaction(treasuryDeps, sweep.sentId)).state === 'confirmed');
    await finishSweep(treasuryDeps, planned!.sweepId, { completed: true });
    expect(await usdtOf(address)).toBe(0n);
    // The gas wallet sent nothing: no top-up allocated, signed or mined.
    expect(await anvil.provider.getTransactionCount((await treasuryDeps.signer!.health()).gas_wallets.test!)).toBe(nonce);
    expect(
      await stack.database.db
        .selectFrom('treasury_transactions_sent')
        .select('id')
        .where('sweep_id', '=', planned!.sweepId)
        .where('purpose', '=', 'gas_topup')
        .execute(),
    ).toEqual([]);
  });

  it("runs from the operator's commands as docs/treasury.md shows: sweep --now prints each step and the tally, reconcile finds no difference", async () => {
    const address = await payCustomer('USDT', 8_000_000n);
    const sweep = await npmRun('cli', ['sweep', '--now', '--network', 'ethereum'], cliEnv);
    expect([sweep.code, sweep.stderr]).toEqual([0, '']);
    expect(sweep.stdout).toContain(
      `sweeping ethereum (test): deposit addresses to the treasury, on the worker; each transaction waits for ${SWEEP_DEPTH} confirmations`,
    );
    expect(sweep.stdout).toMatch(new RegExp(`swp_\\w+ 8\\.000000 USDT at ${address}: completed`));
    // Every planned sweep completed (the tests above may leave coin worth sweeping at other addresses too).
    expect(sweep.stdout).toMatch(/ (\d+) planned: \1 completed, 0 skipped, 0 failed/);
    expect(await usdtOf(address)).toBe(0n);
    const check = await npmRun('cli', ['reconcile'], cliEnv);
    expect([check.code, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toMatch(/ethereum \(test\): \d+ balances compared, \d+ left out while their sweeps are in flight, 0 differences/);
  });

  it('reconciles to no difference (what is in flight left out), then finds a planted transfer out and an unbooked one in, and only those', async () => {
    const reconcileNow = (runId: string) => reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId });
    const clean = await reconcileNow('clean');
    expect(clean.differences).toEqual([]);
    // Every address swept above, in both currencies; the treasury and the address of the sweep left under way above (the lost worker's), in both, are in flight.
    const swept = await stack.database.db.selectFrom('sweeps').select('address').distinct().where('status', '=', 'completed').execute();
    expect(swept.length).toBeGreaterThanOrEqual(5);
    // The gas wallet is left out too: the lost worker's top-up was never confirmed, so it is not final in the ledger
    // (tron-sweeps.test.ts reconciles a gas wallet at rest: its funding booked, nothing else).
    expect(clean).toMatchObject({ checked: swept.length * 2, inFlight: 5 });

    const [outOf, into] = [await payCustomer('USDT', 4_000_000n), await payCustomer('USDT', 1_000_000n)];
    // Someone with the key moves USDT out of a deposit address by hand; ETH reaches another unseen (set by the node, as a contract's internal transfer without call tracing would be).
    await anvil.provider.send('anvil_impersonateAccount', [outOf]);
    await anvil.provider.send('anvil_setBalance', [outOf, '0x16345785D8A0000']);
    const thief = Wallet.createRandom().address;
    const impersonated = await anvil.provider.getSigner(outOf);
    await (await (usdt.connect(impersonated) as Contract).getFunction('transfer')(thief, 4_000_000n)).wait();
    await anvil.provider.send('anvil_setBalance', [into, '0x2386F26FC10000']);
    const found = await reconcileNow('planted');
    expect(found.differences).toEqual(
      expect.arrayContaining([
        { account: 'deposit_addresses', address: outOf, currency: 'USDT', expected: '4000000', actual: '0' },
        { account: 'deposit_addresses', address: outOf, currency: 'ETH', expected: '0', actual: expect.any(String) },
        { account: 'deposit_addresses', address: into, currency: 'ETH', expected: '0', actual: '10000000000000000' },
      ]),
    );
    expect(found.differences).toHaveLength(3);
    const recorded = await stack.database.db.selectFrom('reconciliation_mismatches').selectAll().where('run_id', '=', 'planted').execute();
    expect(recorded).toHaveLength(3);
    // Written with them: the reconciliation.mismatch operator event that tells the operator.
    const event = await stack.database.db.selectFrom('operator_events').selectAll().where('id', '=', found.operatorEventId!).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ type: 'reconciliation.mismatch', livemode: false, delivered_at: null });
    expect(event.data).toMatchObject({ run_id: 'planted', network: 'ethereum', differences: found.differences });
    // The daily workflow's run: the same differences, its operator event delivered to the operator's webhook, signed.
    const workflowRun = await stack.dev.client.workflow.execute('reconcileWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `reconcile-test-${Date.now()}`,
      args: [{ livemode: false, network: 'ethereum' }],
    });
    expect((workflowRun as { differences: unknown[] }).differences).toHaveLength(3);
    await operator.waitForRequests(1);
    const delivered = verifyWebhook(operator.requests[0]!.rawBody, operator.requests[0]!.headers, operatorSecret) as {
      id: string;
      type: string;
      data: { differences: unknown[] };
    };
    expect(delivered).toMatchObject({ id: (workflowRun as { operatorEventId: string }).operatorEventId, type: 'reconciliation.mismatch' });
    expect(delivered.data.differences).toHaveLength(3);
    // What /healthz?detail reports of it all: the sweep left under way above (no workflow finished it), the refused one failed, the
    // three differences found by each of the two runs, and the operator event of the first (the CLI's kind of run) not delivered.
    expect(await treasuryHealth(stack.database.db)).toEqual({
      sweeps: { under_way: 1, failed_24h: 1, last_completed_at: expect.any(String) },
      reconciliation: { differences_24h: 6, last_difference_at: expect.any(String), operator_events_undelivered: 1 },
    });
  });
  it("books the gas wallet's funding once it is at rest, and reports coin that left it unbooked", async () => {
    // Finish the lost worker's sweep (its top-up and transfer were mined, never confirmed): the gas wallet is then at rest.
    const open = await stack.database.db.selectFrom('sweeps').select('id').where('status', 'in', ['pending', 'topping_up', 'sending']).execute();
    for (const sweep of open) {
      for (const sent of await stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('sweep_id', '=', sweep.id).execute()) {
        if (sent.status !== 'broadcast' && sent.status !== 'signed') continue;
        await waitFor(`${sent.purpose} ${sent.id} final`, async () => (await confirmSweepTransaction(treasuryDeps, sent.id)).state !== 'waiting', 60_000);
      }
      await finishSweep(treasuryDeps, sweep.id, { completed: true });
    }
    const gasWallet = (await treasuryDeps.signer!.health()).gas_wallets.test!;
    const atRest = await reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId: 'gas-at-rest' });
    // The 1 ETH the test sent it by hand at the start: funding, booked once; the ledger now says what the chain says.
    expect(atRest.funded).toEqual([{ account: 'gas_wallet', address: gasWallet, currency: 'ETH', amount: (10n ** 18n).toString() }]);
    expect(atRest.differences.filter((difference) => difference.account === 'gas_wallet')).toEqual([]);
    // (Balances read raw: ethers answers a repeated identical call from its cache for a moment.)
    const balanceOf = async (address: string) => BigInt(await anvil.provider.send('eth_getBalance', [address, 'latest']));
    expect(await holding('gas_wallet', 'ETH', gasWallet)).toBe(await balanceOf(gasWallet));
    expect(await holding('funding', 'ETH')).toBe(-(10n ** 18n));
    expect((await reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId: 'gas-again' })).funded).toEqual([]);

    // Someone with the gas wallet's key sends coin out by hand: a difference, not funding.
    await anvil.provider.send('anvil_impersonateAccount', [gasWallet]);
    const impersonated = await anvil.provider.getSigner(gasWallet);
    await (await impersonated.sendTransaction({ to: Wallet.createRandom().address, value: 10n ** 17n })).wait();
    const booked = await holding('gas_wallet', 'ETH', gasWallet);
    const drained = await reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId: 'gas-drained' });
    expect(drained.funded).toEqual([]);
    expect(drained.differences).toContainEqual({
      account: 'gas_wallet',
      address: gasWallet,
      currency: 'ETH',
      expected: booked.toString(),
      actual: (await balanceOf(gasWallet)).toString(),
    });
  });
  it('plans only what is worth INFLOW_SWEEP_MIN_USD at the price now, where a currency has no minimum of its own', async () => {
    const [small, large] = [await payCustomer('USDT', 2_000_000n), await payCustomer('USDT', 7_000_000n)];
    const { config } = stack.worker;
    const usdMinimum: TreasuryDeps = {
      ...treasuryDeps,
      ...createTreasuryDeps({ ...config, treasury: { ...config.treasury, sweepMinimumUsdCents: 500n } }),
      prices: createPriceSources(config),
    };
    const planned = await planSweeps(usdMinimum, { livemode: false, network: 'ethereum' });
    const sweeps = await stack.database.db
      .selectFrom('sweeps')
      .select(['address', 'currency'])
      .where(
        'id',
        'in',
        planned.map((sweep) => sweep.sweepId),
      )
      .execute();
    // $7 of USDT (at the static $1.00) is worth sweeping, $2 is not; the ETH a top-up left at an address (cents) neither.
    expect(sweeps).toContainEqual({ address: large, currency: 'USDT' });
    expect(sweeps.map((sweep) => sweep.address)).not.toContain(small);
    expect(sweeps.filter((sweep) => sweep.currency === 'ETH')).toEqual([]);
  });
});
