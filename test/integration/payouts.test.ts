/**
 * Payouts and refunds on a real chain (docs/payouts.md): anvil with a test USDT, the real signer
 * process holding the test mnemonic (its hot wallet m/44'/60'/2'/0/0 is the treasury), inflow's API
 * and worker running payout workflows on the Temporal dev server, Postgres. The merchant's balance
 * comes from simulated deposits (test mode); the hot wallet is funded by hand, as an operator would.
 * The oracle is the chain: what the destinations hold and how many transactions the hot wallet sent,
 * read from anvil, against the ledgers.
 */
import { HDNodeWallet, Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { buildMerchant, staticPrices, testMnemonics, testPayoutSettings } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { holdingsInvariantViolations } from '../../src/treasury/holdings.repository';
import { reconcile } from '../../src/treasury/reconcile';
import { sendPayout } from '../../src/treasury/payout-sending';
import type { TreasuryDeps } from '../../src/treasury/sweep-context';
import { createTreasuryDeps } from '../../src/treasury/treasury-deps';
import { describeWorkflow } from '../../src/workflows/client';
import { payoutWorkflowId } from '../../src/workflows/definitions';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { isolatedNamespaces } from '../helpers/temporal';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { npmRun } from '../helpers/script-process';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

const hotWallet = HDNodeWallet.fromPhrase(testMnemonics.test, undefined, "m/44'/60'/2'/0/0").address;
const USDT = 10n ** 6n;

describe('payouts and refunds (anvil, the signer process, API, worker, Temporal dev server, Postgres)', () => {
  let anvil: RunningAnvil;
  let funder: NonceManager;
  let usdt: Contract;
  let signer: TestSigner;
  let stack: TestStack;
  let treasuryDeps: TreasuryDeps;
  let miner: NodeJS.Timeout;
  let merchant: CreatedMerchant;
  let customerId: string;

  const usdtOf = async (address: string) => (await usdt.getFunction('balanceOf')(address)) as bigint;
  const ethOf = async (address: string) => BigInt(await anvil.provider.send('eth_getBalance', [address, 'latest']));
  const hotWalletNonce = async () => BigInt(await anvil.provider.send('eth_getTransactionCount', [hotWallet, 'latest']));
  const api = (path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) =>
    stack.api.request(`/api/v1${path}`, { key: merchant.test_key, ...init });
  const json = async (path: string, init?: Parameters<typeof api>[1]) => (await (await api(path, init)).json()) as any;
  const balanceOf = async (currency: string) =>
    ((await json('/balance')).by_currency as any[]).find((row) => row.network === 'ethereum' && row.currency === currency);
  const payoutOf = (id: string) => json(`/payouts/${id}`);
  const untilOver = async (id: string) => {
    await waitFor(`payout ${id} over`, async () => ['completed', 'failed', 'canceled'].includes((await payoutOf(id)).status), 60_000);
    return payoutOf(id);
  };
  const deposit = async (currency: string, amount: string) => {
    const made = await json('/deposits/simulate', { method: 'POST', json: { customer_id: customerId, network: 'ethereum', currency, amount } });
    await waitFor('deposit completed', async () => (await json(`/deposits/${made.id}`)).status === 'completed', 60_000);
    return json(`/deposits/${made.id}`);
  };
  /** The workflow ids a visibility query lists. */
  const listed = async (query: string) => {
    const ids: string[] = [];
    for await (const execution of stack.dev.client.workflow.list({ query })) ids.push(execution.workflowId);
    return ids;
  };
  const payoutRows = async () =>
    Number(
      (
        await stack.database.db
          .selectFrom('payouts')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    funder = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(funder);
    signer = await startTestSigner({
      INFLOW_TREASURY_ETHEREUM_TEST: hotWallet,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
      INFLOW_PAYOUT_AUTHORIZATION_SECRET: testPayoutSettings.authorizationSecret!,
    });
    const env = {
      INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_SIGNER_SOCKET: signer.env.INFLOW_SIGNER_SOCKET!,
      INFLOW_SIGNER_SECRET: signer.secret,
    };
    // USD 20,000 a day per merchant; above USD 10,000 a payout waits for a second key's approval.
    const payouts = { ...testPayoutSettings, dailyLimitUsdCents: { test: 2_000_000n }, approvalAboveUsdCents: 1_000_000n };
    stack = await startTestStack('payouts', { namespace: isolatedNamespaces.payouts, env, api: { simulatedBlockTimeMs: 10, payouts } });
    treasuryDeps = { db: stack.database.db, ...createTreasuryDeps(stack.worker.config), prices: staticPrices() };
    merchant = await buildMerchant(stack.database.db, 'Payouts');
    customerId = (await json('/customers', { method: 'POST', json: {} })).id;
    // Blocks keep coming, as on a real chain: confirmations need them.
    miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), 200);
    // The operator funds the hot wallet by hand: gas, and liquidity beyond what sweeps brought.
    await (await funder.sendTransaction({ to: hotWallet, value: 10n ** 18n })).wait();
    await (await usdt.getFunction('transfer')(hotWallet, 1_000n * USDT)).wait();
  });

  afterAll(async () => {
    clearInterval(miner);
    await stack?.stop();
    if (stack) {
      expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
      expect(await holdingsInvariantViolations(stack.database.db)).toEqual([]);
    }
    await stack?.database.destroy();
    await signer?.stop();
    await anvil?.stop();
  });

  it('holds the amount and fee at once, pays the destination once on the chain, then books it: three balance levels, events, ledger', async () => {
    await deposit('USDT', '100');
    const before = await balanceOf('USDT');
    expect(before).toMatchObject({ net: '98.000000', available: '98.000000', pending: '0.000000', paid_out: '0.000000' });
    const destination = Wallet.createRandom().address;
    const nonceBefore = await hotWalletNonce();

    const request = {
      method: 'POST',
      json: { network: 'ethereum', currency: 'USDT', amount: '10', destination, external_id: 'withdrawal-1' },
      headers: { 'Idempotency-Key': 'payout-1' },
    };
    const created = await api('/payouts', request);
    expect(created.status).toBe(200);
    const payout: any = await created.json();
    expect(payout).toMatchObject({
      object: 'payout',
      status: 'pending',
      amount: '10.000000',
      fee: '1.000000',
      fee_basis: 'fixed',
      destination,
      external_id: 'withdrawal-1',
      deposit_id: null,
    });
    // A retry with the same key answers the same payout, and makes no second one.
    expect(((await (await api('/payouts', request)).json()) as any).id).toBe(payout.id);

    const completed = await untilOver(payout.id);
    expect(completed).toMatchObject({ status: 'completed', transaction_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    // The chain: the destination holds exactly the amount, from one transaction of the hot wallet.
    expect(await usdtOf(destination)).toBe(10n * USDT);
    expect((await hotWalletNonce()) - nonceBefore).toBe(1n);
    const receipt = await anvil.provider.getTransactionReceipt(completed.transaction_hash);
    expect(receipt?.from).toBe(hotWallet);

    expect(await balanceOf('USDT')).toMatchObject({ net: '98.000000', available: '87.000000', pending: '0.000000', paid_out: '11.000000' });
    const booked = await json(`/balance/transactions?payout_id=${payout.id}`);
    expect(booked.data).toEqual([
      expect.objectContaining({ type: 'payout', payout_id: payout.id, deposit_id: null, amount: '-10.000000', fee: '1.000000', net: '-11.000000' }),
    ]);
    const events = await json(`/events?object_id=${payout.id}`);
    expect(events.data.map((event: any) => event.event).sort()).toEqual(['payout.broadcast', 'payout.completed', 'payout.created']);
    // Its workflow ended completed, and says so, in its result and its search attributes.
    expect(await stack.dev.client.workflow.getHandle(payoutWorkflowId({ livemode: false, payoutId: payout.id })).result()).toBe('completed');
    await waitFor('visibility', async () =>
      (await listed(`WorkflowType = 'payoutWorkflow' AND PayoutId = '${payout.id}' AND ObjectStatus = 'completed'`)).includes(
        payoutWorkflowId({ livemode: false, payoutId: payout.id }),
      ),
    );
    // Its step run again (a retry after a lost answer) sends nothing.
    expect(await sendPayout(treasuryDeps, payout.id)).toEqual({ state: 'over', status: 'completed' });
    expect((await hotWalletNonce()) - nonceBefore).toBe(1n);
  });

  it('refuses what it cannot pay, with a clear error and nothing written', async () => {
    const rows = await payoutRows();
    const refused = async (body: Record<string, unknown>) => {
      const response = await api('/payouts', {
        method: 'POST',
        json: { network: 'ethereum', currency: 'USDT', amount: '1', destination: Wallet.createRandom().address, ...body },
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      return { status: response.status, error: ((await response.json()) as any).error };
    };
    const lowerCase = Wallet.createRandom().address.toLowerCase();
    expect(await refused({ destination: lowerCase })).toMatchObject({
      status: 400,
      error: { code: 'destination_invalid', param: 'destination', message: expect.stringContaining('checksummed') },
    });
    expect(await refused({ destination: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' })).toMatchObject({ status: 400, error: { param: 'destination' } });
    expect(await refused({ destination: '0x0000000000000000000000000000000000000000' })).toMatchObject({ status: 400, error: { param: 'destination' } });
    expect(await refused({ amount: '0.0000001' })).toMatchObject({ status: 400, error: { param: 'amount' } });
    expect(await refused({ currency: 'TRX' })).toMatchObject({ status: 400, error: { param: 'currency' } });
    expect(await refused({ amount: '1000000' })).toMatchObject({ status: 400, error: { code: 'balance_insufficient', param: 'amount' } });
    expect(await refused({ external_id: 'withdrawal-1' })).toMatchObject({ status: 409, error: { param: 'external_id' } });
    const live = await stack.api.request('/api/v1/payouts', {
      method: 'POST',
      key: merchant.live_key,
      json: { network: 'ethereum', currency: 'USDT', amount: '1', destination: Wallet.createRandom().address },
    });
    expect(live.status).toBe(403);
    expect(((await live.json()) as any).error.code).toBe('payouts_disabled');
    expect(await payoutRows()).toBe(rows);
  });

  it('queues a payout the hot wallet cannot cover; a cancel before anything is signed releases its hold and ends its workflow', async () => {
    await deposit('ETH', '5');
    const destination = Wallet.createRandom().address;
    const created = await json('/payouts', { method: 'POST', json: { network: 'ethereum', currency: 'ETH', amount: '2', destination } });
    await waitFor('queued', async () => (await payoutOf(created.id)).status === 'queued');
    // The queue that formed is the operator's to hear of, once; and a sweep of the network was asked for.
    const told = await stack.database.db.selectFrom('operator_events').selectAll().where('type', '=', 'payouts.queued').execute();
    expect(told.map((event) => event.data)).toEqual([
      expect.objectContaining({ payout_id: created.id, network: 'ethereum', currency: 'ETH', hot_wallet: hotWallet }),
    ]);
    const sweep = stack.dev.client.workflow.getHandle(`sweep-run:test:ethereum:for-${created.id}`);
    await waitFor(
      'a sweep run asked for',
      async () =>
        await sweep.describe().then(
          () => true,
          () => false,
        ),
    );
    const held = await balanceOf('ETH');
    expect(BigInt(held.pending.replace('.', ''))).toBeGreaterThan(0n);

    const canceled = await json(`/payouts/${created.id}/cancel`, { method: 'POST', json: {} });
    expect(canceled).toMatchObject({ status: 'canceled' });
    expect(await json(`/payouts/${created.id}/cancel`, { method: 'POST', json: {} })).toMatchObject({ status: 'canceled' });
    expect(await balanceOf('ETH')).toMatchObject({ pending: '0.000000000000000000', available: held.net });
    expect(await stack.dev.client.workflow.getHandle(created.workflow_id ?? payoutWorkflowId({ livemode: false, payoutId: created.id })).result()).toBe(
      'canceled',
    );
    expect(await ethOf(destination)).toBe(0n);
  });

  it('refunds a deposit to the address the customer gives, at most its net, and shows it on the deposit', async () => {
    const paid = await deposit('USDT', '50');
    const customer = Wallet.createRandom().address;
    const tooMuch = await api(`/deposits/${paid.id}/refunds`, { method: 'POST', json: { destination: customer, amount: '48.5' } });
    expect(tooMuch.status).toBe(400);
    expect(((await tooMuch.json()) as any).error.code).toBe('refund_exceeds_deposit');
    const refund = await json(`/deposits/${paid.id}/refunds`, { method: 'POST', json: { destination: customer } });
    expect(refund).toMatchObject({ object: 'payout', deposit_id: paid.id, amount: '48.000000', destination: customer });
    expect(await untilOver(refund.id)).toMatchObject({ status: 'completed' });
    expect(await usdtOf(customer)).toBe(48n * USDT);
    expect(await json(`/deposits/${paid.id}`)).toMatchObject({ amount_refunded: '48.000000' });
    const again = await api(`/deposits/${paid.id}/refunds`, { method: 'POST', json: { destination: customer, amount: '1' } });
    expect(((await again.json()) as any).error.code).toBe('refund_exceeds_deposit');
    const events = await json(`/events?object_id=${paid.id}`);
    expect(events.data.map((event: any) => event.event)).toContain('deposit.refunded');
  });

  it('survives the signer crashing while payouts wait for it: each is paid exactly once', async () => {
    await deposit('USDT', '200');
    signer.process.signal('SIGKILL');
    await signer.process.exited;
    const destinations = Array.from({ length: 5 }, () => Wallet.createRandom().address);
    const nonceBefore = await hotWalletNonce();
    const made: any[] = [];
    for (const destination of destinations)
      made.push(await json('/payouts', { method: 'POST', json: { network: 'ethereum', currency: 'USDT', amount: '3', destination } }));
    // Each workflow asks the signer that is gone, and keeps asking: its send step is on a later attempt.
    for (const payout of made) {
      const handle = stack.dev.client.workflow.getHandle(payoutWorkflowId({ livemode: false, payoutId: payout.id }));
      await waitFor(
        'send retried',
        async () => ((await handle.describe()).raw.pendingActivities ?? []).some((activity) => (activity.attempt ?? 0) >= 2),
        30_000,
      );
      expect((await payoutOf(payout.id)).status).toBe('pending');
    }
    await signer.crashAndRestart();
    for (const payout of made) expect(await untilOver(payout.id)).toMatchObject({ status: 'completed' });
    for (const destination of destinations) expect(await usdtOf(destination)).toBe(3n * USDT);
    expect((await hotWalletNonce()) - nonceBefore).toBe(BigInt(destinations.length));
  });

  it('holds a payout above the approval threshold until another key approves it, and keeps a day within the limit', async () => {
    await deposit('USDT', '21000');
    const destination = Wallet.createRandom().address;
    const large = await json('/payouts', { method: 'POST', json: { network: 'ethereum', currency: 'USDT', amount: '12000', destination } });
    expect(large).toMatchObject({ status: 'requires_approval', approved_at: null });
    expect((await balanceOf('USDT')).pending).toBe('12001.000000');
    // Its workflow waits, and says what for: nothing is signed while it requires approval.
    const workflowId = payoutWorkflowId({ livemode: false, payoutId: large.id });
    // (Started by the outbox relay after the commit: not found until then.)
    const details = () =>
      describeWorkflow(stack.dev.client, workflowId).then(
        (overview) => overview.currentDetails ?? '',
        () => '',
      );
    await waitFor('its workflow waiting for approval', async () => /waiting for a key/.test(await details()));
    // The operator finds it in the Web UI by its id and its status.
    await waitFor('visibility', async () => (await listed(`PayoutId = '${large.id}' AND ObjectStatus = 'requires_approval'`)).includes(workflowId));

    // A day's payouts are limited: this one would take it past USD 20,000.
    const over = await api('/payouts', { method: 'POST', json: { network: 'ethereum', currency: 'USDT', amount: '9000', destination } });
    expect(over.status).toBe(400);
    expect(((await over.json()) as any).error).toMatchObject({ code: 'payout_limit_exceeded', param: 'amount' });

    // The key that made it cannot approve it; a key without payout_approvals cannot either.
    const own = await api(`/payouts/${large.id}/approve`, { method: 'POST', json: {} });
    expect(own.status).toBe(403);
    expect(((await own.json()) as any).error.code).toBe('payout_approval_same_key');
    const keyWith = async (name: string, permissions: Record<string, string>) =>
      (await json('/api-keys', { method: 'POST', json: { name, permissions } })).secret as string;
    const clerk = await keyWith('clerk', { payouts: 'write' });
    expect((await stack.api.request(`/api/v1/payouts/${large.id}/approve`, { method: 'POST', key: clerk, json: {} })).status).toBe(403);
    const approver = await keyWith('approver', { payouts: 'read', payout_approvals: 'write' });
    const approved = await stack.api.request(`/api/v1/payouts/${large.id}/approve`, { method: 'POST', key: approver, json: {} });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ status: 'pending', approved_at: expect.any(String) });
    // The merchant hears of it: payout.approved, once (a second approve answers the payout and announces nothing).
    await stack.api.request(`/api/v1/payouts/${large.id}/approve`, { method: 'POST', key: approver, json: {} });
    const announced = (await json(`/events?object_id=${large.id}`)).data.map((event: any) => event.event);
    expect(announced.filter((type: string) => type === 'payout.approved')).toHaveLength(1);
    // Approved, it goes on: the hot wallet holds less than 12,000 USDT, so it queues.
    await waitFor('queued after approval', async () => (await payoutOf(large.id)).status === 'queued', 30_000);
    // It looked at once, woken by the API's signal after the commit, its re-check timer canceled.
    const { events } = await stack.dev.client.workflow.getHandle(workflowId).fetchHistory();
    const signaled = events!.findIndex((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'payoutChanged');
    expect(signaled).toBeGreaterThan(-1);
    expect(events!.slice(signaled).some((event) => event.timerCanceledEventAttributes)).toBe(true);
    expect(await json(`/payouts/${large.id}/cancel`, { method: 'POST', json: {} })).toMatchObject({ status: 'canceled' });
    expect(await stack.dev.client.workflow.getHandle(workflowId).result()).toBe('canceled');
    expect(await usdtOf(destination)).toBe(0n);
  });

  it('follows the chain when a reorg takes a mined payout away before it is final: sent again at its one nonce, paid once', async () => {
    await deposit('USDT', '20');
    const destination = Wallet.createRandom().address;
    // Only the payout's own transaction makes a block now (anvil mines each as it arrives): it stays short of 12 confirmations.
    clearInterval(miner);
    const beforeReorg = (await anvil.provider.send('evm_snapshot', [])) as string;
    const nonceBefore = await hotWalletNonce();
    const payout = await json('/payouts', { method: 'POST', json: { network: 'ethereum', currency: 'USDT', amount: '5', destination } });
    await waitFor('broadcast', async () => (await payoutOf(payout.id)).status === 'broadcast');
    const { transaction_hash: hash } = await payoutOf(payout.id);
    await waitFor('mined', async () => (await anvil.provider.send('eth_getTransactionReceipt', [hash])) !== null);
    expect(await usdtOf(destination)).toBe(5n * USDT);
    // The reorg: the chain goes back to before the payout's block (and forgets its transaction). Nothing is mined while the
    // chain is read here: the worker may send the same bytes again at any moment, and anvil would mine them at once.
    await anvil.provider.send('evm_setAutomine', [false]);
    try {
      expect(await anvil.provider.send('evm_revert', [beforeReorg])).toBe(true);
      expect(await anvil.provider.send('eth_getTransactionReceipt', [hash])).toBeNull();
      expect(await usdtOf(destination)).toBe(0n);
      expect((await payoutOf(payout.id)).status).toBe('broadcast');
    } finally {
      await anvil.provider.send('evm_setAutomine', [true]);
      miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), 200);
    }
    const completed = await untilOver(payout.id);
    expect(completed.status).toBe('completed');
    // The final chain: paid once, by one transaction of the hot wallet at the payout's one nonce: the same bytes sent
    // again, or (on a slow machine, when the chain's head passed it by its stuck depth before it was asked) a version
    // with a higher fee at that nonce, whichever was mined.
    expect(await usdtOf(destination)).toBe(5n * USDT);
    expect((await hotWalletNonce()) - nonceBefore).toBe(1n);
    const mined = await anvil.provider.send('eth_getTransactionReceipt', [completed.transaction_hash]);
    expect(mined).toMatchObject({ status: '0x1', from: hotWallet.toLowerCase() });
    // The payout names the version mined; the one first broadcast is among the payout's versions.
    const sent = await stack.database.db
      .selectFrom('treasury_transactions_sent')
      .select(['id', 'hash'])
      .where('payout_id', '=', payout.id)
      .executeTakeFirstOrThrow();
    const replaced = await stack.database.db.selectFrom('treasury_sent_replaced').select('hash').where('sent_id', '=', sent.id).execute();
    const versions = [sent.hash, ...replaced.map((row) => row.hash)];
    expect(versions).toContain(completed.transaction_hash);
    expect(versions).toContain(hash);
  });

  it("takes one merchant's own daily limit, set by the operator's command line, over the one for every merchant", async () => {
    await deposit('USDT', '30');
    const request = { method: 'POST', json: { network: 'ethereum', currency: 'USDT', amount: '10', destination: Wallet.createRandom().address } };
    const cli = (...args: string[]) =>
      npmRun('cli', ['merchant', 'payout-limit', '--merchant', merchant.merchant_id, '--mode', 'test', ...args], { DATABASE_URL: stack.database.url });

    const limited = await cli('--usd', '5');
    expect([limited.code, limited.stderr]).toEqual([0, '']);
    expect(limited.stdout).toContain(`merchant ${merchant.merchant_id}: test-mode payouts limited to USD 5.00 in any 24 hours`);
    const refused = await api('/payouts', request);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error).toMatchObject({
      code: 'payout_limit_exceeded',
      message: expect.stringContaining("this account's daily limit of USD 5.00"),
    });

    expect((await cli('--default')).stdout).toContain('test-mode payouts follow INFLOW_PAYOUT_DAILY_LIMIT_USD_TEST');
    const allowed = await api('/payouts', request);
    expect(allowed.status).toBe(200);
    expect((await untilOver(((await allowed.json()) as any).id)).status).toBe('completed');
    // Bad input names what is wrong and changes nothing.
    const bad = await cli('--usd', 'lots');
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('--usd must be a USD amount')]);
  });

  it('reconciles: the ledger and the chain agree once the operator funding of the hot wallet is booked', async () => {
    const report = await reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId: 'payouts-reconcile' });
    expect(report.differences).toEqual([]);
    expect(report.funded.map((funding) => funding.address)).toContain(hotWallet);
    const again = await reconcile(treasuryDeps, { livemode: false, network: 'ethereum', runId: 'payouts-reconcile-again' });
    expect(again).toMatchObject({ differences: [], funded: [] });
  });
});
