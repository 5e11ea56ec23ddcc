/**
 * A bounded load, as merchants and payers make it: customers, simulated deposits and event
 * resends through the API (each write with an Idempotency-Key, retried with the same key on 503,
 * 429 or no answer, as a well-behaved client does), reads, and real USDT transfers on the devnet to
 * customers' addresses, and sweep runs of test-mode ethereum (as `npm run cli -- sweep --now` starts
 * them, without waiting) that move that USDT on to the treasury while the faults happen; and
 * payouts (docs/payouts.md) of small USDT amounts on ethereum to fresh addresses, a few refunds of
 * completed ethereum deposits, and a few cancels of payouts just made (racing their sends), out of
 * a balance a first deposit builds (`prepareBalance`). Everything acknowledged is recorded, for the checks.
 */
import { randomUUID } from 'node:crypto';
import { getAddress, Interface, Wallet } from 'ethers';
import { FUNDED_PRIVATE_KEY } from '../../dev/devnet/anvil';
import type { ApiClient } from './api-client';
import { delay } from '../../dev/managed-process';
import type { Prng } from './prng';
import { rpcProvider } from './stack';

export interface LoadLimits {
  /** Per round, at most: */
  customers: number;
  simulatedDeposits: number;
  resends: number;
  transfers: number;
  sweepRuns: number;
  /** Payouts (POST /payouts), refunds (POST /deposits/:id/refunds) and cancels of payouts just made (POST /payouts/:id/cancel). */
  payouts: number;
  refunds: number;
  cancels: number;
  /** Concurrent API lanes (the chain lane, the sweep lane and the payout lane are three more). */
  apiLanes: number;
}

export const defaultLoadLimits: LoadLimits = {
  customers: 3,
  simulatedDeposits: 30,
  resends: 4,
  transfers: 30,
  sweepRuns: 4,
  payouts: 8,
  refunds: 2,
  cancels: 2,
  apiLanes: 2,
};

/** What the first deposit brings to the merchant's ethereum USDT balance (the payouts and refunds are paid out of it). */
export const PAYOUT_BALANCE_USDT = '500';

/** Starts a sweep run (sweepRunWorkflow) under this workflow id, without waiting for it; rejects if Temporal did not take it in time. */
export type StartSweepRun = (workflowId: string) => Promise<void>;

export interface KnownCustomer {
  id: string;
  ethereumAddress: string;
  acknowledgedAt: number;
}

export interface AcknowledgedDeposit {
  depositId: string;
  outcome: 'completed' | 'failed';
  network: string;
  amount: string;
  acknowledgedAt: number;
}

export interface SentTransfer {
  hash: string;
  to: string;
  amount: bigint;
  sentAt: number;
}

/** A payout or refund acknowledged with its id: what the merchant asked for. */
export interface AcknowledgedPayout {
  payoutId: string;
  /** The deposit it refunds, for a refund. */
  depositId: string | undefined;
  destination: string;
  /** Base units of USDT (6 decimals). */
  amount: bigint;
  acknowledgedAt: number;
}

/** A cancel of a payout, answered: it was canceled, or it was already being sent (400 payout_not_cancelable). */
export interface AcknowledgedCancel {
  payoutId: string;
  outcome: 'canceled' | 'not_cancelable';
  acknowledgedAt: number;
}

/** A write that never got its 2xx within the retry budget, or was refused with a 4xx. */
export interface UnfinishedWrite {
  path: string;
  idempotencyKey: string;
  lastAnswer: string;
  at: number;
}

export interface LoadRecord {
  customers: KnownCustomer[];
  simulated: AcknowledgedDeposit[];
  resends: Array<{ eventId: string; acknowledgedAt: number }>;
  transfers: SentTransfer[];
  transferErrors: number;
  /** Every sweep run the load asked for (one whose start failed may still have reached Temporal: the checks ask it). */
  sweepRuns: Array<{ workflowId: string; startedAt: number; error?: string }>;
  payouts: AcknowledgedPayout[];
  cancels: AcknowledgedCancel[];
  unfinished: UnfinishedWrite[];
  refused: UnfinishedWrite[];
}

const WRITE_RETRY_BUDGET_MS = 180_000;
const simulatedNetworks = ['ethereum', 'tron', 'bsc'] as const;
const erc20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);
const USDT_DECIMALS = 6;
const BALANCE_POLL_MS = 250;

export class LoadGenerator {
  readonly record: LoadRecord = {
    customers: [],
    simulated: [],
    resends: [],
    transfers: [],
    transferErrors: 0,
    sweepRuns: [],
    payouts: [],
    cancels: [],
    unfinished: [],
    refused: [],
  };
  private readonly wallet: Wallet;
  /** Deposits refunded already: one refund each, so each deposit has one deposit.refunded event. */
  private readonly refunded = new Set<string>();
  /** Every destination paid so far: each payout's is fresh, so what it holds on the chain is that payout's alone. */
  private readonly destinations = new Set<string>();
  /** The payout lane's stream, one for the whole run (each round goes on where the last stopped: fresh amounts and addresses). */
  private readonly payoutPrng: Prng;
  /** The deposit the payouts are paid out of (startBalance), and whether it is completed yet. */
  private balanceDeposit: string | undefined;
  private balanceReady = false;

  constructor(
    private readonly api: ApiClient,
    private readonly chain: { rpcUrl: string; usdtAddress: string },
    private readonly prng: Prng,
    private readonly limits: LoadLimits = defaultLoadLimits,
    private readonly startSweepRun?: StartSweepRun,
  ) {
    this.wallet = new Wallet(FUNDED_PRIVATE_KEY, rpcProvider(chain.rpcUrl, 5_000));
    this.payoutPrng = prng.fork('payout lane');
  }

  /**
   * Runs the lanes until `stop` resolves; in-flight writes finish (their retries included) before it
   * returns. Each kind of write is spread over `expectedMs` (its quota is released pro rata), so
   * writes are in flight whenever a fault strikes, not only at the start of the round.
   */
  async run(stop: Promise<void>, expectedMs: number): Promise<void> {
    let stopped = false;
    void stop.then(() => (stopped = true));
    const started = Date.now();
    const used = { customers: 0, simulatedDeposits: 0, resends: 0, transfers: 0, sweepRuns: 0, payouts: 0, refunds: 0, cancels: 0 };
    const mayStart = (kind: keyof typeof used) => {
      const released = Math.ceil(this.limits[kind] * Math.min(1, (Date.now() - started) / expectedMs));
      if (used[kind] >= released) return false;
      used[kind]++;
      return true;
    };
    const apiLane = async (lane: Prng) => {
      while (!stopped) {
        const roll = lane.next();
        if (roll < 0.12 && mayStart('customers')) await this.createCustomer();
        else if (roll < 0.62 && this.record.customers.length > 0 && mayStart('simulatedDeposits')) await this.simulateDeposit(lane);
        else if (roll < 0.7 && mayStart('resends')) await this.resendAnEvent(lane);
        else await this.read(lane);
        await Promise.race([stop, delay(lane.int(150, 700))]);
      }
    };
    const chainLane = async (lane: Prng) => {
      while (!stopped) {
        if (this.record.customers.length > 0 && mayStart('transfers')) await this.sendTransfer(lane);
        await Promise.race([stop, delay(lane.int(200, 800))]);
      }
    };
    // Sweeps: whatever customers hold by now moves to the treasury while the faults go on.
    const sweepLane = async (lane: Prng) => {
      while (!stopped && this.startSweepRun) {
        if (this.record.transfers.length > 0 && mayStart('sweepRuns')) await this.sweep();
        await Promise.race([stop, delay(lane.int(1_000, 3_000))]);
      }
    };
    // Payouts out of the merchant's ethereum USDT balance (once its first deposit is completed): some refunds, and now and then a cancel racing the send.
    const payoutLane = async (lane: Prng) => {
      while (!stopped && !(await this.balanceIsReady())) await Promise.race([stop, delay(BALANCE_POLL_MS)]);
      while (!stopped) {
        if (mayStart('payouts')) {
          const payout = await this.payout(lane);
          if (payout && mayStart('cancels')) await this.cancel(lane, payout);
        } else if (mayStart('refunds')) await this.refund(lane);
        await Promise.race([stop, delay(lane.int(300, 1_200))]);
      }
    };
    await Promise.all([
      ...Array.from({ length: this.limits.apiLanes }, (_, i) => apiLane(this.prng.fork(`api lane ${i}`))),
      chainLane(this.prng.fork('chain lane')),
      sweepLane(this.prng.fork('sweep lane')),
      payoutLane(this.payoutPrng),
    ]);
  }

  /**
   * The balance payouts are paid out of: one simulated ethereum USDT deposit (recorded as the load's
   * others are), made before the first round with every part up; the payout lane waits for it to complete.
   */
  async startBalance(): Promise<void> {
    if (this.limits.payouts + this.limits.refunds === 0) return;
    const customer = this.record.customers[0];
    if (!customer) throw new Error('the payouts need a customer to deposit first');
    const deposit = await this.write('/deposits/simulate', {
      customer_id: customer.id,
      network: 'ethereum',
      currency: 'USDT',
      amount: PAYOUT_BALANCE_USDT,
      outcome: 'completed',
    });
    if (!deposit) throw new Error('the deposit the payouts are paid out of was not acknowledged');
    this.record.simulated.push({ depositId: deposit.id, outcome: 'completed', network: 'ethereum', amount: PAYOUT_BALANCE_USDT, acknowledgedAt: Date.now() });
    this.balanceDeposit = deposit.id;
  }

  /** Whether the balance's deposit is completed (asked until it is; a fault may keep the answer away for a while). */
  private async balanceIsReady(): Promise<boolean> {
    if (this.balanceReady || !this.balanceDeposit) return this.balanceReady;
    const answer = await this.api.request('GET', `/deposits/${this.balanceDeposit}`);
    this.balanceReady = answer.status === 200 && answer.body.status === 'completed';
    return this.balanceReady;
  }

  /** A payout of 0.01 to 2 USDT on ethereum to a fresh address (checksummed), with an external id of its own. */
  private async payout(lane: Prng): Promise<AcknowledgedPayout | undefined> {
    const amount = smallUsdtAmount(lane);
    const destination = this.freshDestination(lane);
    const body = {
      network: 'ethereum',
      currency: 'USDT',
      amount: formatUsdt(amount),
      destination,
      external_id: `chaos-payout-${this.record.payouts.length + 1}`,
    };
    const payout = await this.write('/payouts', body);
    if (!payout) return undefined;
    const acknowledged = { payoutId: payout.id as string, depositId: undefined, destination, amount, acknowledgedAt: Date.now() };
    this.record.payouts.push(acknowledged);
    return acknowledged;
  }

  /**
   * A refund of part of a completed ethereum USDT deposit the load made (each deposit at most once),
   * to a fresh address: the deposit is asked for first, and skipped unless it is completed by now.
   */
  private async refund(lane: Prng): Promise<void> {
    const candidates = this.record.simulated.filter(
      (deposit) => deposit.network === 'ethereum' && deposit.outcome === 'completed' && !this.refunded.has(deposit.depositId),
    );
    if (candidates.length === 0) return;
    const deposit = lane.pick(candidates);
    const answer = await this.api.request('GET', `/deposits/${deposit.depositId}`);
    if (answer.status !== 200 || answer.body.status !== 'completed') return;
    this.refunded.add(deposit.depositId);
    const amount = smallUsdtAmount(lane);
    const destination = this.freshDestination(lane);
    const refund = await this.write(`/deposits/${deposit.depositId}/refunds`, { destination, amount: formatUsdt(amount) });
    if (refund) this.record.payouts.push({ payoutId: refund.id, depositId: deposit.depositId, destination, amount, acknowledgedAt: Date.now() });
  }

  /** A fresh address from the seed, in its EIP-55 checksummed form (as the API asks for), never one paid before in this run. */
  private freshDestination(lane: Prng): string {
    for (;;) {
      const hex = Array.from({ length: 40 }, () => lane.int(0, 15).toString(16)).join('');
      const address = getAddress(`0x${hex}`);
      if (this.destinations.has(address) || BigInt(address) === 0n) continue;
      this.destinations.add(address);
      return address;
    }
  }

  /** A cancel of a payout just made, after a seeded pause: before its send (canceled), or after it (payout_not_cancelable). */
  private async cancel(lane: Prng, payout: AcknowledgedPayout): Promise<void> {
    await delay(lane.int(0, 400));
    const answer = await this.write(`/payouts/${payout.payoutId}/cancel`, {}, ['payout_not_cancelable']);
    if (!answer) return;
    this.record.cancels.push({
      payoutId: payout.payoutId,
      outcome: answer.error?.code === 'payout_not_cancelable' ? 'not_cancelable' : 'canceled',
      acknowledgedAt: Date.now(),
    });
  }

  async createCustomer(): Promise<void> {
    const customer = await this.write('/customers', { name: `Chaos customer ${this.record.customers.length + 1}` });
    if (!customer) return;
    const address = (customer.addresses as Array<{ network: string; address: string }>).find((entry) => entry.network === 'ethereum')!.address;
    this.record.customers.push({ id: customer.id, ethereumAddress: address, acknowledgedAt: Date.now() });
  }

  private async simulateDeposit(lane: Prng): Promise<void> {
    const customer = lane.pick(this.record.customers);
    const network = lane.pick(simulatedNetworks);
    const amount = `${lane.int(3, 500)}.${String(lane.int(0, 999_999)).padStart(6, '0')}`;
    const outcome = lane.chance(0.15) ? 'failed' : 'completed';
    const deposit = await this.write('/deposits/simulate', { customer_id: customer.id, network, currency: 'USDT', amount, outcome });
    if (deposit) this.record.simulated.push({ depositId: deposit.id, outcome, network, amount, acknowledgedAt: Date.now() });
  }

  private async resendAnEvent(lane: Prng): Promise<void> {
    const page = await this.api.request('GET', '/events?limit=20');
    if (page.status !== 200 || page.body.data.length === 0) return;
    const event = lane.pick(page.body.data as Array<{ id: string }>);
    if (await this.write(`/events/${event.id}/resend`, undefined)) this.record.resends.push({ eventId: event.id, acknowledgedAt: Date.now() });
  }

  private async read(lane: Prng): Promise<void> {
    const customer = this.record.customers.length > 0 ? lane.pick(this.record.customers) : undefined;
    const path = lane.pick(['/deposits?limit=10', '/balance', '/events?limit=10', customer ? `/customers/${customer.id}` : '/customers?limit=5', '/healthz']);
    await (path === '/healthz' ? this.api.health() : this.api.request('GET', path));
  }

  /** A real transfer from anvil's funded account; the nonce is asked each time, since a restarted devnet forgets recent blocks. */
  private async sendTransfer(lane: Prng): Promise<void> {
    const customer = lane.pick(this.record.customers);
    const amount = BigInt(lane.int(3, 300)) * 1_000_000n + BigInt(lane.int(0, 999_999));
    try {
      const nonce = await this.wallet.provider!.getTransactionCount(this.wallet.address, 'pending');
      const sent = await this.wallet.sendTransaction({
        to: this.chain.usdtAddress,
        data: erc20.encodeFunctionData('transfer', [customer.ethereumAddress, amount]),
        nonce,
        gasLimit: 100_000n,
        gasPrice: 10_000_000_000n,
        chainId: 31337n,
      });
      this.record.transfers.push({ hash: sent.hash, to: customer.ethereumAddress, amount, sentAt: Date.now() });
    } catch {
      // The devnet is down (a fault): this payer gives up; the on-chain check counts what exists.
      this.record.transferErrors++;
    }
  }

  private async sweep(): Promise<void> {
    const run = { workflowId: `sweep-run:test:ethereum:chaos-${this.record.sweepRuns.length + 1}`, startedAt: Date.now() } as LoadRecord['sweepRuns'][number];
    this.record.sweepRuns.push(run);
    try {
      await this.startSweepRun!(run.workflowId);
    } catch (error) {
      // Temporal is down (a fault): this run may or may not exist; the next one sweeps what it would have.
      run.error = (error as Error).message;
    }
  }

  /**
   * A POST retried with one Idempotency-Key until it is answered 2xx (or a 4xx other than 429, or the budget runs out).
   * A 4xx whose error code is in `expected` is an answer too: its body is returned (`error.code` says which).
   */
  private async write(path: string, json: unknown, expected: readonly string[] = []): Promise<any | undefined> {
    const idempotencyKey = randomUUID();
    const giveUpAt = Date.now() + WRITE_RETRY_BUDGET_MS;
    let pause = 250;
    for (;;) {
      const answer = await this.api.request('POST', path, { json, idempotencyKey });
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) return answer.body;
      if (answer.status !== undefined && answer.status >= 400 && answer.status < 500 && expected.includes(answer.body?.error?.code)) return answer.body;
      const lastAnswer = answer.status === undefined ? answer.error : `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
      // 429 (a rate limit) says when to try again; any other 4xx refuses this request for good.
      if (answer.status !== undefined && answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
        this.record.refused.push({ path, idempotencyKey, lastAnswer, at: Date.now() });
        return undefined;
      }
      if (Date.now() > giveUpAt) {
        this.record.unfinished.push({ path, idempotencyKey, lastAnswer, at: Date.now() });
        return undefined;
      }
      await delay(pause);
      pause = Math.min(pause * 2, 2_000);
    }
  }

  close(): void {
    this.wallet.provider?.destroy();
  }
}

/** 0.01 to 1.99 USDT, in base units. */
function smallUsdtAmount(lane: Prng): bigint {
  return BigInt(lane.int(0, 1)) * 10n ** BigInt(USDT_DECIMALS) + BigInt(lane.int(10_000, 999_999));
}

function formatUsdt(units: bigint): string {
  const scale = 10n ** BigInt(USDT_DECIMALS);
  return `${units / scale}.${(units % scale).toString().padStart(USDT_DECIMALS, '0')}`;
}
