/**
 * A bounded load, as merchants and payers make it: customers, simulated deposits and event
 * resends through the API (each write with an Idempotency-Key, retried with the same key on 503,
 * 429 or no answer, as a well-behaved client does), reads, and real USDT transfers on the devnet to
 * customers' addresses, and sweep runs of test-mode ethereum (as `npm run cli -- sweep --now` starts
 * them, without waiting) that move that USDT on to the treasury while the faults happen. Everything
 * acknowledged is recorded, for the checks.
 */
import { randomUUID } from 'node:crypto';
import { Interface, Wallet } from 'ethers';
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
  /** Concurrent API lanes (the chain lane and the sweep lane are two more). */
  apiLanes: number;
}

export const defaultLoadLimits: LoadLimits = { customers: 3, simulatedDeposits: 30, resends: 4, transfers: 30, sweepRuns: 4, apiLanes: 2 };

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
  unfinished: UnfinishedWrite[];
  refused: UnfinishedWrite[];
}

const WRITE_RETRY_BUDGET_MS = 180_000;
const simulatedNetworks = ['ethereum', 'tron', 'bsc'] as const;
const erc20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);

export class LoadGenerator {
  readonly record: LoadRecord = { customers: [], simulated: [], resends: [], transfers: [], transferErrors: 0, sweepRuns: [], unfinished: [], refused: [] };
  private readonly wallet: Wallet;

  constructor(
    private readonly api: ApiClient,
    private readonly chain: { rpcUrl: string; usdtAddress: string },
    private readonly prng: Prng,
    private readonly limits: LoadLimits = defaultLoadLimits,
    private readonly startSweepRun?: StartSweepRun,
  ) {
    this.wallet = new Wallet(FUNDED_PRIVATE_KEY, rpcProvider(chain.rpcUrl, 5_000));
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
    const used = { customers: 0, simulatedDeposits: 0, resends: 0, transfers: 0, sweepRuns: 0 };
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
    await Promise.all([
      ...Array.from({ length: this.limits.apiLanes }, (_, i) => apiLane(this.prng.fork(`api lane ${i}`))),
      chainLane(this.prng.fork('chain lane')),
      sweepLane(this.prng.fork('sweep lane')),
    ]);
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

  /** A POST retried with one Idempotency-Key until it is answered 2xx (or a 4xx other than 429, or the budget runs out). */
  private async write(path: string, json: unknown): Promise<any | undefined> {
    const idempotencyKey = randomUUID();
    const giveUpAt = Date.now() + WRITE_RETRY_BUDGET_MS;
    let pause = 250;
    for (;;) {
      const answer = await this.api.request('POST', path, { json, idempotencyKey });
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) return answer.body;
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
