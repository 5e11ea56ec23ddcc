/**
 * Payouts on Tron (docs/payouts.md#tron): the Tron stand-in (java-tron's HTTP API, its clock and
 * reorgs), the real signer process holding the test mnemonic (its Tron hot wallet m/44'/195'/2'/0/0
 * is the Tron treasury), inflow's API and worker running payout workflows on the Temporal dev
 * server, Postgres. The merchant's balance comes from simulated deposits (test mode); the hot wallet
 * is funded by hand, as an operator would.
 *
 * Tron has no nonce, so a payout is signed once, as one transaction. The chain faults here are the
 * ones that could make that pay twice or lose the hold: a reorg that drops the mined transaction
 * (sent again, the same bytes, paid once), and a transaction that expires unmined (the payout
 * fails, nothing paid, the hold released). The oracle is the chain: what the destinations and the
 * hot wallet hold and the transaction infos, read from the stand-in's endpoints.
 */
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { buildMerchant, staticPrices, testMnemonics, testPayoutSettings } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { decodeRawData, encodeRawData, tronAddressOfKey } from '../../src/chains/tron/transaction';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { holdingsInvariantViolations } from '../../src/treasury/holdings.repository';
import { reconcile } from '../../src/treasury/reconcile';
import { SignerRefusedError, type TronSignRequest } from '../../src/treasury/signer-client';
import type { TreasuryDeps } from '../../src/treasury/sweep-context';
import { createTreasuryDeps } from '../../src/treasury/treasury-deps';
import { buildTronTransaction, TronTreasuryChain } from '../../src/treasury/tron-chain';
import { PAYOUT_EXPIRATION_MS } from '../../src/treasury/tron-payouts';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { isolatedNamespaces } from '../helpers/temporal';
import { tronOracle } from '../helpers/tron-oracle';
import { waitFor } from '../helpers/wait';

jest.setTimeout(180_000);

const TRX = 1_000_000n;
const USDT = 1_000_000n;
const hotWallet = tronAddressOfKey(HDNodeWallet.fromSeed(Mnemonic.fromPhrase(testMnemonics.test).computeSeed()).derivePath("m/44'/195'/2'/0/0").privateKey);
const newTronAddress = () => tronAddressOfKey(Wallet.createRandom().privateKey);

describe('payouts on Tron (the Tron stand-in, the signer process, API, worker, Temporal dev server, Postgres)', () => {
  let tron: RunningTronDevnet;
  let signer: TestSigner;
  let stack: TestStack;
  let treasuryDeps: TreasuryDeps;
  let miner: NodeJS.Timeout | undefined;
  let merchant: CreatedMerchant;
  let customerId: string;
  const { trxOf, usdtOf, infoOf } = tronOracle(() => tron);

  const api = (path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) =>
    stack.api.request(`/api/v1${path}`, { key: merchant.test_key, ...init });
  const json = async (path: string, init?: Parameters<typeof api>[1]) => (await (await api(path, init)).json()) as any;
  const balanceOf = async (currency: string) =>
    ((await json('/balance')).by_currency as any[]).find((row) => row.network === 'tron' && row.currency === currency);
  const payoutOf = (id: string) => json(`/payouts/${id}`);
  const until = async (id: string, statuses: string[]) => {
    await waitFor(`payout ${id} ${statuses.join(' or ')}`, async () => statuses.includes((await payoutOf(id)).status), 90_000);
    return payoutOf(id);
  };
  const pay = async (currency: 'USDT' | 'TRX', amount: string, destination: string) => {
    const created = await api('/payouts', { method: 'POST', json: { network: 'tron', currency, amount, destination } });
    expect(created.status).toBe(200);
    return (await created.json()) as any;
  };
  const deposit = async (currency: string, amount: string) => {
    const made = await json('/deposits/simulate', { method: 'POST', json: { customer_id: customerId, network: 'tron', currency, amount } });
    await waitFor('deposit completed', async () => (await json(`/deposits/${made.id}`)).status === 'completed', 60_000);
  };
  const startMining = () => {
    miner ??= setInterval(() => tron.mine(), 100);
  };
  const stopMining = () => {
    clearInterval(miner);
    miner = undefined;
  };
  const sentOf = (payoutId: string) =>
    stack.database.db.selectFrom('treasury_transactions_sent').selectAll().where('payout_id', '=', payoutId).executeTakeFirstOrThrow();

  beforeAll(async () => {
    tron = await startTronDevnet({ port: await freePort() });
    tron.mine(25);
    signer = await startTestSigner({
      INFLOW_TREASURY_TRON_TEST: hotWallet,
      INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
      INFLOW_PAYOUT_AUTHORIZATION_SECRET: testPayoutSettings.authorizationSecret!,
    });
    const env = {
      INFLOW_RPC_URL_TRON_TEST: tron.rpcUrl,
      INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
      INFLOW_CONFIRMATIONS_TRON_TEST: '3',
      INFLOW_SIGNER_SOCKET: signer.env.INFLOW_SIGNER_SOCKET!,
      INFLOW_SIGNER_SECRET: signer.secret,
    };
    stack = await startTestStack('tron-payouts', {
      namespace: isolatedNamespaces.tronPayouts,
      env,
      // Tron payouts are charged what they burn (measured), up to USD 10 held.
      api: {
        simulatedBlockTimeMs: 10,
        payouts: { ...testPayoutSettings, feeUsdCents: { ...testPayoutSettings.feeUsdCents, tron: 1_000n }, feeBasis: { tron: 'measured' } },
      },
    });
    treasuryDeps = { db: stack.database.db, ...createTreasuryDeps(stack.worker.config), prices: staticPrices() };
    merchant = await buildMerchant(stack.database.db, 'Tron payouts');
    customerId = (await json('/customers', { method: 'POST', json: {} })).id;
    // The operator funds the hot wallet by hand: TRX for fees and payouts, USDT for liquidity.
    tron.transfer(hotWallet, 1_000n * TRX, 'TRX');
    tron.transfer(hotWallet, 500n * USDT, 'USDT');
    tron.mine();
    await deposit('USDT', '200');
    await deposit('TRX', '300');
  });

  afterAll(async () => {
    stopMining();
    await stack?.stop();
    if (stack) {
      expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
      expect(await holdingsInvariantViolations(stack.database.db)).toEqual([]);
    }
    await stack?.database.destroy();
    await signer?.stop();
    await tron?.stop();
  });

  it('refuses a destination that is not a Tron address, or is its zero address, with nothing written', async () => {
    for (const destination of ['0x52908400098527886E0F7030069857D2E4169EE7', 'TNotAnAddress', 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb']) {
      const refused = await api('/payouts', { method: 'POST', json: { network: 'tron', currency: 'USDT', amount: '1', destination } });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as any).error).toMatchObject({ code: 'destination_invalid', param: 'destination' });
    }
    expect(await stack.database.db.selectFrom('payouts').select('id').execute()).toEqual([]);
  });

  it('pays USDT and TRX from the hot wallet once each, the energy and bandwidth burned from its TRX, charges what each burned, and books both ledgers', async () => {
    startMining();
    const usdtTo = newTronAddress();
    const trxTo = newTronAddress();
    const hotTrxBefore = await trxOf(hotWallet);
    const hotUsdtBefore = await usdtOf(hotWallet);
    const [usdtPayout, trxPayout] = [await pay('USDT', '25', usdtTo), await pay('TRX', '40', trxTo)];
    // Held: the most a measured fee may be, USD 10 (10 USDT, 40 TRX at the static prices).
    expect(usdtPayout).toMatchObject({ status: 'pending', amount: '25.000000', destination: usdtTo, fee: '10.000000', fee_basis: 'measured' });
    expect(trxPayout).toMatchObject({ fee: '40.000000', fee_basis: 'measured' });

    const [usdtDone, trxDone] = [await until(usdtPayout.id, ['completed', 'failed']), await until(trxPayout.id, ['completed', 'failed'])];
    expect(usdtDone).toMatchObject({ status: 'completed', transaction_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(trxDone).toMatchObject({ status: 'completed', transaction_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The chain: each destination holds exactly its payout, and the hot wallet paid it and what the two infos say was burned.
    expect(await usdtOf(usdtTo)).toBe(25n * USDT);
    expect(await trxOf(trxTo)).toBe(40n * TRX);
    const usdtInfo = await infoOf(usdtDone.transaction_hash);
    const trxInfo = await infoOf(trxDone.transaction_hash);
    expect(usdtInfo.receipt).toMatchObject({ result: 'SUCCESS' });
    const burned = BigInt(usdtInfo.fee ?? 0) + BigInt(trxInfo.fee ?? 0);
    // The TRX payout to a new address paid to create its account, as java-tron charges.
    expect(BigInt(trxInfo.fee ?? 0) > 0n).toBe(true);
    expect(await trxOf(hotWallet)).toBe(hotTrxBefore - 40n * TRX - burned);
    expect(await usdtOf(hotWallet)).toBe(hotUsdtBefore - 25n * USDT);

    // Charged what the chain says each burned: the TRX payout its TRX exactly, the USDT payout its TRX at USD 0.25 in USDT at USD 1.
    const units = (decimal: string) => BigInt(decimal.replace('.', ''));
    expect(units(trxDone.fee)).toBe(BigInt(trxInfo.fee));
    expect(units(usdtDone.fee)).toBe((BigInt(usdtInfo.fee) + 3n) / 4n);
    expect(units(usdtDone.fee) > 0n && units(usdtDone.fee) < 10n * USDT).toBe(true);
    // The merchant ledger: each payout's amount and the fee charged left the balance; nothing is pending, nothing more is held.
    expect(await balanceOf('USDT')).toMatchObject({ pending: '0.000000' });
    expect(units((await balanceOf('USDT')).paid_out)).toBe(25n * USDT + units(usdtDone.fee));
    expect(units((await balanceOf('TRX')).paid_out)).toBe(40n * TRX + units(trxDone.fee));
    // The holdings ledger: the burn is a network fee, and the hot wallet's books match the chain (funding booked by reconciliation).
    const report = await reconcile(treasuryDeps, { livemode: false, network: 'tron', runId: `test:${Date.now()}` });
    expect(report).toMatchObject({ inFlight: 0, differences: [] });
    const sent = await sentOf(usdtPayout.id);
    expect(sent).toMatchObject({ status: 'confirmed', hash: usdtDone.transaction_hash, from_address: hotWallet, nonce: null });
  });

  it('sends the same bytes again when a reorg drops the mined payout, and pays it once', async () => {
    stopMining();
    const destination = newTronAddress();
    const payout = await pay('USDT', '7', destination);
    const broadcast = await until(payout.id, ['broadcast']);
    tron.mine();
    expect((await infoOf(broadcast.transaction_hash)).blockNumber).toBeDefined();
    // The block that holds it is taken away, and the transaction is not put back in the mempool: only inflow can send it again.
    const reorged = await fetch(`${tron.rpcUrl}/devnet/reorg`, {
      method: 'POST',
      body: JSON.stringify({ depth: 1, drop: [broadcast.transaction_hash], requeue: false }),
    });
    expect(reorged.status).toBe(200);
    expect(await infoOf(broadcast.transaction_hash)).toEqual({});
    startMining();
    const done = await until(payout.id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', transaction_hash: broadcast.transaction_hash });
    expect(await usdtOf(destination)).toBe(7n * USDT);
  });

  it('fails a payout whose transaction expired unmined: nothing paid, the hold released, and the signer signs no second one', async () => {
    stopMining();
    const destination = newTronAddress();
    const before = await balanceOf('TRX');
    const payout = await pay('TRX', '5', destination);
    const broadcast = await until(payout.id, ['broadcast']);
    expect((await balanceOf('TRX')).pending).not.toBe('0.000000');
    const hotBefore = await trxOf(hotWallet);
    // Ten minutes of Tron pass and no block takes it (the stand-in drops what expired), then the chain solidifies past its expiration.
    tron.advanceClock(PAYOUT_EXPIRATION_MS + 120_000);
    startMining();
    const failed = await until(payout.id, ['completed', 'failed']);
    expect(failed).toMatchObject({ status: 'failed', failure_reason: expect.stringContaining('expired unmined') });
    expect(await infoOf(broadcast.transaction_hash)).toEqual({});
    expect(await trxOf(destination)).toBe(0n);
    expect(await trxOf(hotWallet)).toBe(hotBefore);
    expect(await balanceOf('TRX')).toMatchObject({ available: before.available, pending: '0.000000' });
    expect(await sentOf(payout.id)).toMatchObject({ status: 'failed' });
    const events = await json(`/events?object_id=${payout.id}`);
    expect((events.data as any[]).map((event) => event.event)).toContain('payout.failed');
    // A worker that built the same payout again against a new block gets no second signature: Tron has no nonce, so both could be mined.
    const sent = await sentOf(payout.id);
    const { max_cost: _maxCost, ...request } = sent.request as Record<string, unknown>;
    const again = decodeRawData(String(request.raw_data_hex));
    // Valid by every other rule: it expires a minute from the signer's clock (the stand-in's runs ten minutes ahead now).
    const reference = await new TronTreasuryChain(tron.rpcUrl).solidifiedReferenceBlock();
    const rebuilt = buildTronTransaction(again.contract, { ...reference, timestamp: Date.now() }, { now: Date.now() });
    const asked = treasuryDeps.signer!.sign({
      ...(request as unknown as TronSignRequest),
      raw_data_hex: Buffer.from(encodeRawData(rebuilt)).toString('hex'),
      request_id: `${sent.id}.again`,
      workflow_id: 'a-worker-taken-over',
    });
    await expect(asked).rejects.toThrow(SignerRefusedError);
    await expect(asked).rejects.toThrow(/payout_once|signed before/);
  });
});
