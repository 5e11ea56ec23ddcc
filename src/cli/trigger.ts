/**
 * `npm run cli -- trigger <event type> [--network N] [--currency C] [--api-key sk_test_…]`: makes,
 * through the public API in test mode, the objects whose life fires that event (a customer, a
 * simulated deposit, an order, a payout), prints each, and waits for the event on the event stream,
 * so that `listen` (or a registered endpoint) gets a real one. Payments go to arbitrum by default,
 * whose simulated confirmations come quickest at real block times (40 blocks of 250 ms); an API
 * with INFLOW_SIMULATED_BLOCK_TIME_MS set is quickest on the network needing fewest (ethereum, 12).
 * Payouts go out in ETH on ethereum by default: `npm run dev`'s devnet, whose hot wallet holds ETH
 * for gas (a simulated deposit brings no coins to the chain, only balance to the ledger).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Wallet } from 'ethers';
import { eventTypes, type EventType } from '../domain/events';
import { isNetwork, networks } from '../domain/networks';
import { MIN_EXPIRES_IN_SECONDS, PAYMENT_GRACE_MS } from '../domain/order-state';
import { StartupError } from '../startup';
import { InflowError, type ArgsOf, type Method, type Schemas } from '../../sdk/src';
import { ApiRequestError, testModeApi, type TestModeApi } from './test-mode-api';

const DEFAULT_NETWORK = 'arbitrum';
const DEFAULT_CURRENCY = 'USDT';
/** Where payouts go unless --network and --currency say otherwise: the devnet's chain, in the coin its hot wallet holds. */
const DEFAULT_PAYOUT_NETWORK = 'ethereum';
const DEFAULT_PAYOUT_CURRENCY = 'ETH';
/** A payout on --network without --currency is in the network's own coin, which its hot wallet holds for gas. */
const nativeCurrencyOf = (network: string | undefined) => (network && isNetwork(network) ? networks[network].nativeCurrency : undefined);
/**
 * A payout's amount in each currency, and the simulated deposit that funds it when the available
 * balance is short: its net (less the $2 deposit fee) covers the payout and its fee ($1 unless the
 * operator says otherwise) several times over.
 */
const PAYOUT_AMOUNTS: Record<string, { payout: string; deposit: string }> = {
  ETH: { payout: '0.001', deposit: '0.01' },
  BNB: { payout: '0.005', deposit: '0.05' },
  POL: { payout: '5', deposit: '50' },
  TRX: { payout: '10', deposit: '100' },
  USDT: { payout: '2', deposit: '25' },
  USDC: { payout: '2', deposit: '25' },
};
const ORDER_AMOUNT = '10';
/** Long enough for an order to expire and settle (MIN_EXPIRES_IN_SECONDS + the payment grace) on a busy machine. */
const WAIT_MS = 10 * 60_000;
const TYPE_WIDTH = Math.max(...eventTypes.map((type) => type.length));

/** What a recipe made, and the object whose event is awaited. */
interface Made {
  /** The id in the awaited event's `data.id`. */
  objectId: string;
  /** What to wait for, said before waiting. */
  expect: string;
  /** Where the awaited object stands now, said while waiting when it changes (`dep_…: confirming, 7/12 confirmations`). */
  state?: () => Promise<string>;
  /**
   * A step on the way: `event` about `objectId` is awaited first (a deposit's completion funding a
   * payout), then `make` makes what the triggered event is about, and that is awaited.
   */
  next?: { event: EventType; then: string; make: () => Promise<Made> };
  /** Events about the object after which the awaited one can never come (a payout failed or canceled): waiting ends with the reason. */
  endsWith?: EventType[];
}

interface Context {
  api: TestModeApi;
  say: (line: string) => void;
  /** Where payments go. */
  network: string;
  currency: string;
  /** Where payouts go: --network and --currency when given (the network's coin without --currency), else ETH on ethereum. */
  payout: { network: string; currency: string };
  /** Every object made: their events are said as they arrive. */
  made: Set<string>;
}

type Recipe = (context: Context) => Promise<Made>;

/**
 * A simulated deposit's parameters with --network and --currency as given: the API judges the
 * pair, and its refusal is the one line printed.
 */
interface SimulateParams {
  customer_id?: string;
  order_id?: string;
  network?: string;
  currency?: string;
  amount: string;
  outcome?: 'completed' | 'failed';
}

const createCustomer = async ({ api, say, made }: Context, type: EventType) => {
  const customer = await api.call(api.inflow.customers.create, { name: 'Triggered customer', metadata: { triggered: type } });
  made.add(customer.id);
  say(`created customer ${customer.id}`);
  return customer;
};

const simulateDeposit = async ({ api, say, made }: Context, body: SimulateParams) => {
  const deposit = await api.call(api.inflow.deposits.simulate, body as ArgsOf<'simulateDeposit'>[0]);
  made.add(deposit.id);
  say(
    `simulated deposit ${deposit.id}: ${deposit.amount} ${deposit.currency} on ${deposit.network} to ${deposit.address}${body.outcome === 'failed' ? ', to be reorganised away' : ''}`,
  );
  return deposit;
};

const createOrder = async ({ api, say, network, currency, made }: Context, type: EventType, expiresIn?: number) => {
  const order = await api.call(api.inflow.orders.create, {
    external_id: `trigger_${randomBytes(6).toString('hex')}`,
    network,
    currency,
    amount: ORDER_AMOUNT,
    ...(expiresIn ? { expires_in: expiresIn } : {}),
    metadata: { triggered: type },
  } as ArgsOf<'createOrder'>[0]);
  made.add(order.id);
  say(`created order ${order.id}: ${order.amount} ${order.currency} on ${order.network} to ${order.address}, expires ${order.expires_at}`);
  return order;
};

/** `dep_…: confirming, 7/40 confirmations` */
const depositState = (api: TestModeApi, id: string) => async () => {
  const deposit = await api.call(api.inflow.deposits.retrieve, id);
  return `${deposit.id}: ${deposit.status}, ${deposit.confirmations}/${deposit.required_confirmations} confirmations`;
};

/** `ord_…: pending, 0.000000 of 10.000000 USDT received, expires at …` */
const orderState = (api: TestModeApi, id: string) => async () => {
  const order = await api.call(api.inflow.orders.retrieve, id);
  return `${order.id}: ${order.status}, ${order.amount_received} of ${order.amount} ${order.currency} received${order.status === 'pending' ? `, expires at ${order.expires_at}` : ''}`;
};

/** `pay_…: broadcast, transaction 0x…` */
const payoutState = (api: TestModeApi, id: string) => async () => {
  const payout = await api.call(api.inflow.payouts.retrieve, id);
  const detail = payout.failure_reason ?? (payout.transaction_hash ? `transaction ${payout.transaction_hash}` : undefined);
  return `${payout.id}: ${payout.status}${detail ? `, ${detail}` : ''}`;
};

/** When the payout is expected to complete: after its network's confirmations (npm run dev's devnet mines a block every 2 s). */
const payoutConfirmed = (network: string) =>
  `once its transaction has ${isNetwork(network) ? networks[network].requiredConfirmations : "its network's"} confirmations; queued while the hot wallet holds too little`;

/** The trigger's payout: a small amount to a fresh random address, where --network and --currency say (ETH on ethereum by default). */
const payoutBody = ({ payout }: Context, type: EventType) =>
  ({
    ...payout,
    amount: PAYOUT_AMOUNTS[payout.currency]?.payout ?? '1',
    destination: Wallet.createRandom().address,
    metadata: { triggered: type },
  }) as ArgsOf<'createPayout'>[0];

/**
 * `POST /payouts` for api.call, answering undefined instead of the 400 `balance_insufficient` of an
 * available balance that does not cover the payout and its fee. Any other refusal is the one line
 * printed: the 403 `payouts_disabled` of an API without INFLOW_PAYOUT_AUTHORIZATION_SECRET comes
 * before anything is made to fund the payout.
 */
const createPayoutUnlessShort = (api: TestModeApi) =>
  Object.assign(
    (...args: ArgsOf<'createPayout'>) =>
      api.inflow.payouts.create(...args).catch((error: unknown) => {
        if (error instanceof InflowError && error.code === 'balance_insufficient') return undefined;
        throw error;
      }),
    { operationId: 'createPayout' as const },
  ) satisfies Method<'createPayout', Promise<Schemas['Payout'] | undefined>>;

const saidPayout = ({ say, made }: Context, payout: Schemas['Payout']) => {
  made.add(payout.id);
  say(`created payout ${payout.id}: ${payout.amount} ${payout.currency} on ${payout.network} to ${payout.destination}, fee ${payout.fee} ${payout.currency}`);
  return payout;
};

/**
 * A payout, funded first by a simulated deposit when the available balance is short (the deposit's
 * completion awaited, then the payout made): `awaited` says when the payout's event comes.
 */
const payoutRecipe =
  (type: EventType, awaited: (payout: Schemas['Payout']) => string): Recipe =>
  async (context) => {
    const { api, say, payout: where } = context;
    const madeOf = (payout: Schemas['Payout']): Made => ({
      objectId: payout.id,
      expect: awaited(payout),
      state: payoutState(api, payout.id),
      endsWith: ['payout.failed', 'payout.canceled'],
    });
    const payout = await api.call(createPayoutUnlessShort(api), payoutBody(context, type));
    if (payout) return madeOf(saidPayout(context, payout));
    say(`the available ${where.currency} on ${where.network} does not cover the payout and its fee: a simulated deposit funds it`);
    const customer = await createCustomer(context, type);
    const deposit = await simulateDeposit(context, { customer_id: customer.id, ...where, amount: PAYOUT_AMOUNTS[where.currency]?.deposit ?? '25' });
    return {
      objectId: deposit.id,
      expect: `after ${deposit.required_confirmations} simulated confirmations`,
      state: depositState(api, deposit.id),
      next: {
        event: 'deposit.completed',
        then: 'the payout',
        make: async () => madeOf(saidPayout(context, await api.call(api.inflow.payouts.create, payoutBody(context, type)))),
      },
    };
  };

const depositRecipe =
  (type: EventType, outcome: 'completed' | 'failed', expect: (deposit: Schemas['Deposit']) => string): Recipe =>
  async (context) => {
    const customer = await createCustomer(context, type);
    const deposit = await simulateDeposit(context, { customer_id: customer.id, network: context.network, currency: context.currency, amount: '25', outcome });
    return { objectId: deposit.id, expect: expect(deposit), state: depositState(context.api, deposit.id) };
  };

const settlesAfter = `${MIN_EXPIRES_IN_SECONDS} s and settles ${PAYMENT_GRACE_MS / 1_000} s later`;

/** The event types no recipe makes, and why. */
const untriggerable: Partial<Record<EventType, string>> = {
  'deposit.reversed': 'it needs a completed deposit taken off the chain by a reorganisation, which simulated deposits never are',
  'deposit.refunded':
    'refund a completed deposit with POST /deposits/{id}/refunds or from its page in the dashboard; the event comes when the refund completes',
  'payout.approved':
    'it needs a payout above INFLOW_PAYOUT_APPROVAL_ABOVE_USD and a second key with write on payout_approvals to approve it (POST /payouts/{id}/approve, or the Payouts page of the dashboard)',
  'payout.failed': "it needs a payout whose transaction reverts or that the signer refuses, which a payout of the trigger's never is",
  'payout.canceled': 'the worker sends a payout at once, so a cancel from here would race it; cancel a pending or queued one with POST /payouts/{id}/cancel',
};

/** Every event type but those in `untriggerable`. */
export const recipes: Partial<Record<EventType, Recipe>> = {
  'customer.created': async (context) => {
    const customer = await createCustomer(context, 'customer.created');
    return { objectId: customer.id, expect: 'at once' };
  },
  'deposit.detected': depositRecipe('deposit.detected', 'completed', () => 'at once'),
  'deposit.confirming': depositRecipe('deposit.confirming', 'completed', () => 'at its first confirmation'),
  'deposit.completed': depositRecipe('deposit.completed', 'completed', (deposit) => `after ${deposit.required_confirmations} simulated confirmations`),
  'deposit.failed': depositRecipe(
    'deposit.failed',
    'failed',
    (deposit) => `when its block is reorganised away, halfway to ${deposit.required_confirmations} confirmations`,
  ),
  'order.created': async (context) => ({ objectId: (await createOrder(context, 'order.created')).id, expect: 'at once' }),
  'order.completed': async (context) => {
    const order = await createOrder(context, 'order.completed');
    const payment = await simulateDeposit(context, { order_id: order.id, amount: order.amount });
    return { objectId: order.id, expect: 'once the payment has its confirmations', state: depositState(context.api, payment.id) };
  },
  'order.canceled': async (context) => {
    const { api, say } = context;
    const order = await createOrder(context, 'order.canceled');
    // The order's workflow starts just after the order's commit; until it runs, a cancel is answered 503.
    for (let attempt = 1; ; attempt++) {
      try {
        await api.call(api.inflow.orders.cancel, order.id);
        break;
      } catch (error) {
        if (!(error instanceof ApiRequestError) || error.status !== 503 || attempt === 20) throw error;
        await sleep(500);
      }
    }
    say(`canceled order ${order.id}`);
    return { objectId: order.id, expect: 'at once' };
  },
  'order.expired': async (context) => {
    const order = await createOrder(context, 'order.expired', MIN_EXPIRES_IN_SECONDS);
    return { objectId: order.id, expect: `when it expires, in ${settlesAfter}`, state: orderState(context.api, order.id) };
  },
  'order.underpaid': async (context) => {
    const order = await createOrder(context, 'order.underpaid', MIN_EXPIRES_IN_SECONDS);
    await simulateDeposit(context, { order_id: order.id, amount: '4' });
    return { objectId: order.id, expect: `when it expires part paid, in ${settlesAfter}`, state: orderState(context.api, order.id) };
  },
  'payout.created': payoutRecipe('payout.created', () => 'at once'),
  'payout.broadcast': payoutRecipe('payout.broadcast', () => 'once the worker has signed and sent it; queued while the hot wallet holds too little'),
  'payout.completed': payoutRecipe('payout.completed', (payout) => payoutConfirmed(payout.network)),
};

export async function trigger(args: string[], env: NodeJS.ProcessEnv, usage: string): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'api-key': { type: 'string' },
      network: { type: 'string' },
      currency: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const type = positionals[0] as EventType | undefined;
  const triggerable = Object.keys(recipes).join(', ');
  if (!type || positionals.length > 1) throw new StartupError(`trigger needs one event type: ${triggerable}\n${usage}`);
  const why = untriggerable[type];
  if (why) throw new StartupError(`${type} cannot be triggered: ${why}`);
  const recipe = recipes[type];
  if (!eventTypes.includes(type) || !recipe) throw new StartupError(`"${type}" is not an event type that can be triggered: ${triggerable}`);
  const api = await testModeApi('trigger', values['api-key'], env);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // Listening before making anything, so the event cannot slip by between the two. Every type: the
  // events of what is made on the way to the awaited one are said as they arrive.
  const stopped = new AbortController();
  process.once('SIGINT', () => stopped.abort());
  const deadline = AbortSignal.any([stopped.signal, AbortSignal.timeout(WAIT_MS)]);
  const stream = await api.eventStream({ signal: deadline });
  // Reading starts at once, before anything is made: a connection the stream has opened but nobody
  // reads yet is cancelled by fetch if its Response is garbage-collected meanwhile (a recipe that
  // makes keys or waits is long enough), and its events would be lost. They queue until read.
  const events = stream[Symbol.asyncIterator]();
  let next = events.next();
  next.catch(() => undefined);
  const started = performance.now();
  const elapsed = () => `+${((performance.now() - started) / 1_000).toFixed(1)} s`.padStart(8);
  let progress = new AbortController();
  try {
    const context: Context = {
      api,
      say,
      network: values.network ?? DEFAULT_NETWORK,
      currency: values.currency ?? DEFAULT_CURRENCY,
      payout: { network: values.network ?? DEFAULT_PAYOUT_NETWORK, currency: values.currency ?? nativeCurrencyOf(values.network) ?? DEFAULT_PAYOUT_CURRENCY },
      made: new Set<string>(),
    };
    /** Says what is awaited now, and where it stands while waiting. */
    const awaiting = (made: Made) => {
      say(`waiting for ${made.next?.event ?? type} (${made.expect})${made.next ? `, then ${made.next.then}` : ''}; ^C stops waiting, not what was made`);
      progress = new AbortController();
      void sayProgress(made, elapsed, say, progress.signal);
      return made;
    };
    let made = awaiting(await recipe(context));
    for (;;) {
      const read = await next;
      if (read.done) break;
      next = events.next();
      next.catch(() => undefined);
      const event = read.value;
      const data = event.data as { id?: unknown; order_id?: unknown; failure_reason?: unknown };
      const about = typeof data.id === 'string' && context.made.has(data.id);
      const paysOrder = typeof data.order_id === 'string' && context.made.has(data.order_id);
      if (!about && !paysOrder) continue;
      const awaited = event.event === (made.next?.event ?? type) && data.id === made.objectId;
      if (awaited && !made.next) {
        progress.abort();
        say(`${type} ${event.id} after ${((performance.now() - started) / 1_000).toFixed(1)} s`);
        return;
      }
      say(`${elapsed()}  ${event.event.padEnd(TYPE_WIDTH)}  ${event.id}  (${String(data.id)})`);
      if (data.id === made.objectId && made.endsWith?.includes(event.event as EventType)) {
        const reason = typeof data.failure_reason === 'string' ? `: ${data.failure_reason.replace(/\.$/, '')}` : '';
        throw new StartupError(`inflow: ${made.objectId} ended with ${event.event}${reason}; ${type} will not come`);
      }
      if (awaited && made.next) {
        progress.abort();
        made = awaiting(await made.next.make());
      }
    }
    throw new StartupError(`inflow: the event stream closed before ${type} arrived; look for it later with GET /events?type=${type}`);
  } catch (error) {
    if (!deadline.aborted) throw error;
    if (stopped.signal.aborted) process.exit(130);
    throw new StartupError(`inflow: no ${type} within ${WAIT_MS / 60_000} minutes; look for it later with GET /events?type=${type}`);
  } finally {
    progress.abort();
    stopped.abort();
  }
}

const POLL_MS = 3_000;
const STILL_WAITING_MS = 15_000;

/**
 * While waiting: where the awaited object stands each time that changes (read every 3 s), and
 * that it is still waiting after 15 s without a change, so a long wait is never silent.
 */
async function sayProgress(made: Made, elapsed: () => string, say: (line: string) => void, signal: AbortSignal): Promise<void> {
  let last: string | undefined;
  let lastSaidAt = performance.now();
  while (!signal.aborted) {
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    const state = made.state ? await made.state().catch(() => undefined) : undefined;
    if (signal.aborted) return;
    if (state !== undefined && state !== last) {
      last = state;
      lastSaidAt = performance.now();
      say(`${elapsed()}  ${state}`);
    } else if (performance.now() - lastSaidAt >= STILL_WAITING_MS) {
      lastSaidAt = performance.now();
      say(`${elapsed()}  still waiting for ${made.objectId}'s event${last ? ` (${last})` : ''}`);
    }
  }
}
