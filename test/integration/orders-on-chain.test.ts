import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Contract, NonceManager } from 'ethers';
import { deployTestAggregator } from '../../dev/devnet/aggregator';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { buildMerchant } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { parseAmount } from '../../src/domain/money';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { createPriceSources } from '../../src/prices/sources';
import { chainWatcherWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { verifyWithSeedPython } from '../helpers/cryptopayments';
import type { TestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

const HEARTBEAT_SECONDS = 3600;
/** A feed answer: USD with the feed's 8 decimals. */
const usd = (value: string) => parseAmount(value, 8);

/**
 * Orders on a real chain: anvil with the test USDT and Chainlink-compatible aggregator contracts,
 * inflow's worker watching it on the Temporal dev server, the real API pricing fiat orders from the
 * feeds, and a real receiver that verifies the callback with the seed's own Python.
 */
describe('orders on anvil (real chain, price feeds, worker, Temporal dev server, Postgres, receiver)', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  let usdt: Contract;
  let feeds: { eur: Contract; usdt: Contract; eth: Contract };
  let stack: TestStack;
  let database: TestDatabase;
  let api: TestApi;
  let merchant: CreatedMerchant;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort(), stateFile: path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-anvil-')), 'state.json') });
    signer = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(signer);
    feeds = {
      eur: await deployTestAggregator(signer, { decimals: 8, description: 'EUR / USD', answer: usd('1.08') }),
      usdt: await deployTestAggregator(signer, { decimals: 8, description: 'USDT / USD', answer: usd('1.00') }),
      eth: await deployTestAggregator(signer, { decimals: 8, description: 'ETH / USD', answer: usd('3000') }),
    };
    // The ETH feed stopped two heartbeats ago: nothing may be priced from it.
    const { timestamp } = (await anvil.provider.getBlock('latest'))!;
    await (await feeds.eth.getFunction('setRoundData')(usd('3000'), BigInt(timestamp - 2 * HEARTBEAT_SECONDS))).wait();

    stack = await startTestStack('orders-chain', {
      namespace: isolatedNamespaces.ordersOnChain,
      env: {
        INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
        INFLOW_CHAIN_POLL_MS: '100',
        INFLOW_PRICE_FEEDS_TEST: [
          `EUR=${await feeds.eur.getAddress()}:${HEARTBEAT_SECONDS}`,
          `USDT=${await feeds.usdt.getAddress()}:${HEARTBEAT_SECONDS}`,
          `ETH=${await feeds.eth.getAddress()}:${HEARTBEAT_SECONDS}`,
        ].join(','),
      },
      chainWatchers: true,
      // The API prices fiat orders from the same feeds the worker charges fees with.
      api: (inflow) => ({ prices: createPriceSources(inflow.config) }),
    });
    ({ database, api } = stack);
    merchant = await buildMerchant(database.db, 'Chain Orders');
    const watcher = stack.dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    await waitFor('watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
  });

  afterAll(async () => {
    await stack?.dev.client.workflow
      .getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }))
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
    if (database) expect(await ledgerInvariantViolations(database.db)).toEqual([]);
    await database?.destroy();
    await anvil?.stop();
  });

  const call = async (method: string, urlPath: string, json?: unknown) => {
    const response = await api.request(`/api/v1${urlPath}`, { method, key: merchant.test_key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('an EUR order paid by a real USDT transfer completes, at the rate locked when it was made, and its callback verifies', async () => {
    const receiver = await startReceiver();
    try {
      const order = (
        await call('POST', '/orders', {
          external_id: 'chain-1',
          network: 'ethereum',
          currency: 'USDT',
          fiat_amount: '50.00',
          fiat_currency: 'EUR',
          callback_url: receiver.url,
        })
      ).body;
      // From the feeds: USDT 1.00 USD, EUR 1.08 USD → 0.92592592 EUR per USDT; 50 EUR → 54.000001 USDT (rounded up).
      expect(order).toMatchObject({ status: 'pending', exchange_rate: '0.92592592', amount: '54.000001', fiat_amount: '50.00' });

      // The euro moves before the customer pays: the order keeps the rate it locked.
      await (await feeds.eur.getFunction('updateAnswer')(usd('1.25'))).wait();
      await (await usdt.getFunction('transfer')(order.address, 54_000_001n)).wait();
      await waitFor('payment detected', async () => (await call('GET', `/orders/${order.id}`)).body.deposits.length === 1);
      await anvil.provider.send('anvil_mine', ['0xc']);
      await waitFor('order completed', async () => (await call('GET', `/orders/${order.id}`)).body.status === 'completed', 60_000);

      const completed = (await call('GET', `/orders/${order.id}`)).body;
      // The fee of the deposit came from the USDT feed: $2 at 1.00.
      expect(completed).toMatchObject({
        exchange_rate: '0.92592592',
        amount: '54.000001',
        amount_received: '54.000001',
        fee: '2.000000',
        net_amount: '52.000001',
      });
      const deposit = (await call('GET', `/deposits/${completed.deposits[0]}`)).body;
      expect(deposit).toMatchObject({ order_id: order.id, simulated: false, status: 'completed', address: order.address, amount: '54.000001' });

      await receiver.waitForRequests(1);
      const [callback] = receiver.requests;
      expect(verifyWithSeedPython(callback!.rawBody, callback!.headers['api-notification-sign'] as string, merchant.test_key)).toBe('valid');
      const body = JSON.parse(callback!.rawBody);
      expect(body).toMatchObject({
        id: order.id,
        status: 'completed',
        externalId: 'chain-1',
        primaryAmount: { amount: '54.000001', currency: 'USDT' },
        secondaryAmount: { amount: '50.00', currency: 'EUR' },
        serviceFeeAmount: { amount: '2.000000', currency: 'USDT' },
        totalAmount: { amount: '52.000001', currency: 'USDT' },
      });
      expect(body.transactions).toEqual([expect.objectContaining({ id: deposit.id, hash: deposit.transaction_hash, receiverAddress: order.address })]);
    } finally {
      await receiver.close();
    }
  });

  it('refuses to price from a stale feed: a clear 503, and nothing written', async () => {
    const before = (await database.db.selectFrom('orders').select('id').execute()).length;
    const response = await call('POST', '/orders', {
      external_id: 'stale-1',
      network: 'ethereum',
      currency: 'ETH',
      fiat_amount: '10.00',
      fiat_currency: 'USD',
    });
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({
      type: 'api_error',
      code: 'service_unavailable',
      message: expect.stringMatching(/^No fresh ETH\/USD price can be had now \(.*is stale.*heartbeat of 3600 s\); nothing was created\. Retry later\.$/),
    });
    expect((await database.db.selectFrom('orders').select('id').execute()).length).toBe(before);
    // An order in the asset itself needs no price, and is made.
    expect((await call('POST', '/orders', { external_id: 'stale-2', network: 'ethereum', currency: 'ETH', amount: '0.01' })).status).toBe(200);
  });
});
