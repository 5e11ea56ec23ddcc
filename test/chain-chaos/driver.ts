/**
 * The runner's hand on the chain: it mines one block per tick (anvil has no automine), sends the
 * payments, keeps every signed transaction it sent and the blocks each has been in, and makes the
 * reorgs. A reorg replaces the last `depth` blocks by empty ones (anvil_reorg); each payment it
 * drops gets a fate, chosen from the seed, the least used of those its kind allows first, so a
 * short run sees every one:
 *
 *   re-mined   sent again a few blocks later with the same signed bytes (the same hash)
 *   failed     its payer drained by the operator's transferFrom first, so the re-sent payment reverts
 *   pays-less  (ConditionalPayer) its payer partly or wholly drained first, so the re-sent payment
 *              succeeds but moves less, or nothing
 *   never      not sent again
 */
import { delay } from '../../dev/managed-process';
import type { Log } from '../../dev/tools/progress';
import type { Prng } from '../chaos/prng';
import type { Devnet } from './devnet';
import { short } from './fault-proxy';
import { signDrain, usdtBalance, type Contracts, type Payment, type PaymentKind } from './load';

export const fates = ['re-mined', 'failed', 'pays-less', 'never'] as const;
export type Fate = (typeof fates)[number];

const fatesByKind: Record<PaymentKind, readonly Fate[]> = {
  usdt: ['re-mined', 'failed', 'never'],
  batch: ['re-mined', 'failed', 'never'],
  dust: ['re-mined', 'failed', 'never'],
  conditional: ['re-mined', 'pays-less', 'never'],
  // A native transfer from an account cannot be made to revert or pay less: it is mined as signed, or not at all.
  eth: ['re-mined', 'never'],
  'contract-eth': ['re-mined', 'never'],
};

/** What the report needs of a payment, on either chain. */
export interface PaymentRef {
  id: string;
  kind: string;
}

/** A transaction the runner sent, with every block it has been in (a reorg can move it). */
export interface SentTransaction<P extends PaymentRef = Payment> {
  hash: string;
  purpose: 'payment' | 'drain';
  payment: P | undefined;
  heights: number[];
}

export interface ReorgRecord<P extends PaymentRef = Payment> {
  id: string;
  round: number;
  at: number;
  /** The head before: blocks head−depth+1 … head were replaced. */
  head: number;
  depth: number;
  dropped: Array<{ hash: string; payment: P | undefined; fate: Fate | undefined; plan: string; inflowHad: string }>;
}

/** The least used of the allowed fates, picked by `prng` among equals (so a short run sees every one); counted in `counts`. */
export function chooseFate(prng: Prng, counts: Map<Fate, number>, allowed: readonly Fate[]): Fate {
  const least = Math.min(...allowed.map((fate) => counts.get(fate) ?? 0));
  const fate = prng.pick(allowed.filter((each) => (counts.get(each) ?? 0) === least));
  counts.set(fate, (counts.get(fate) ?? 0) + 1);
  return fate;
}

/** What inflow has recorded for each transaction, when the reorg drops it ("completed", "confirming ×2", "nothing yet"). */
export type InflowView = (hashes: string[]) => Promise<Map<string, string>>;

interface DueAction {
  tick: number;
  what: string;
  run: () => Promise<void>;
}

export class ChainDriver {
  /** Ticks run so far: one block each. */
  tick = 0;
  /** The last tick that changed the chain's money (a payment sent, a reorg, a fate carried out). */
  lastChangeTick = 0;
  readonly sent = new Map<string, SentTransaction>();
  readonly reorgs: ReorgRecord[] = [];
  private readonly ourTransactionsByBlock = new Map<number, string[]>();
  private due: DueAction[] = [];
  private readonly fateCounts = new Map<Fate, number>();

  constructor(
    private readonly devnet: Devnet,
    private readonly contracts: Contracts,
    private readonly prng: Prng,
    private readonly blockMs: number,
    private readonly log: Log,
    private readonly inflowView: InflowView,
  ) {}

  get pendingActions(): number {
    return this.due.length;
  }

  /** One block: `before` (the plan's faults, reorgs and payments for this tick), the due fate actions, then the block itself, paced to the block time. */
  async runTick(before?: () => Promise<void>): Promise<number> {
    const started = Date.now();
    await before?.();
    const now = this.due.filter((action) => action.tick <= this.tick);
    this.due = this.due.filter((action) => action.tick > this.tick);
    for (const action of now) {
      this.lastChangeTick = this.tick;
      await action.run().catch((error: unknown) => this.log(`${action.what}: ${(error as Error).message}`));
    }
    const number = await this.devnet.mine();
    const block = await this.devnet.block(number);
    const ours = block.transactions.map((hash) => hash.toLowerCase()).filter((hash) => this.sent.has(hash));
    this.ourTransactionsByBlock.set(number, ours);
    for (const hash of ours) this.sent.get(hash)!.heights.push(number);
    this.tick++;
    await delay(Math.max(0, this.blockMs - (Date.now() - started)));
    return number;
  }

  async sendPayment(payment: Payment, again = false): Promise<void> {
    this.track(payment.hash, 'payment', payment);
    this.lastChangeTick = this.tick;
    try {
      await this.devnet.sendRaw(payment.raw);
    } catch (error) {
      this.log(`${payment.id}: ${again ? 're-sending' : 'sending'} ${short(payment.hash)} refused: ${(error as Error).message}`);
    }
  }

  /** Replaces the last `depth` blocks by empty ones; every payment they held gets a fate. */
  async reorg(depth: number, round: number): Promise<ReorgRecord> {
    const head = await this.devnet.head();
    const replaced = Array.from({ length: depth }, (_, i) => head - depth + 1 + i);
    const droppedHashes = replaced.flatMap((number) => this.ourTransactionsByBlock.get(number) ?? []);
    const inflowHad = await this.inflowView(droppedHashes);
    await this.devnet.reorg(depth);
    for (const number of replaced) this.ourTransactionsByBlock.set(number, []);
    this.lastChangeTick = this.tick;
    const record: ReorgRecord = { id: `r${this.reorgs.length + 1}`, round, at: Date.now(), head, depth, dropped: [] };
    for (const hash of droppedHashes) {
      const sent = this.sent.get(hash)!;
      if (await this.devnet.receipt(hash)) {
        this.log(`reorg ${record.id}: ${short(hash)} is still on the chain after it (anvil kept it): no fate`);
        continue;
      }
      if (sent.purpose === 'drain' || !sent.payment) {
        record.dropped.push({ hash, payment: undefined, fate: undefined, plan: 'a drain, not sent again', inflowHad: '' });
        continue;
      }
      const fate = this.chooseFate(sent.payment.kind);
      record.dropped.push({
        hash,
        payment: sent.payment,
        fate,
        plan: this.carryOut(sent.payment, fate),
        inflowHad: inflowHad.get(hash) ?? 'nothing yet',
      });
    }
    this.reorgs.push(record);
    const dropped = record.dropped.map((each) =>
      each.payment ? `${each.payment.id} (${each.payment.kind}; inflow had: ${each.inflowHad}) → ${each.plan}` : `${short(each.hash)}: ${each.plan}`,
    );
    this.log(
      `reorg ${record.id}: depth ${depth}, blocks ${replaced[0]}–${head} replaced${dropped.length ? `; dropped ${dropped.join('; ')}` : '; nothing of ours in them'}`,
    );
    return record;
  }

  private chooseFate(kind: PaymentKind): Fate {
    return chooseFate(this.prng, this.fateCounts, fatesByKind[kind]);
  }

  /** Schedules what a fate does; says what, for the log. */
  private carryOut(payment: Payment, fate: Fate): string {
    // 1 to 8 blocks later: sometimes before inflow sees the transaction vanish, often after, always
    // before it may give up on it (12 blocks).
    const later = this.tick + this.prng.int(1, 8);
    const when = `${later - this.tick} block(s) later`;
    // The drain and the payment go in the same block, the drain first (anvil runs with --order fifo).
    const drainThenResend = (left: bigint) =>
      this.at(later, `draining ${payment.id}'s payer and re-sending it`, async () => {
        await this.drainPayer(payment, left);
        await this.sendPayment(payment, true);
      });
    switch (fate) {
      case 're-mined':
        this.at(later, `re-sending ${payment.id}`, () => this.sendPayment(payment, true));
        return `re-mined ${when}, same hash`;
      case 'failed':
        drainThenResend(0n);
        return `re-mined ${when} after its payer was drained: reverts`;
      case 'pays-less': {
        const amount = payment.legs[0]!.amount;
        // A third of the time nothing is left (the payment succeeds and moves nothing), else a share of the amount.
        const left = this.prng.chance(1 / 3) ? 0n : (amount * BigInt(this.prng.int(1, 999))) / 1000n;
        drainThenResend(left);
        return `re-mined ${when} after its payer was drained to ${left}: pays ${left === 0n ? 'nothing' : 'less'}`;
      }
      case 'never':
        return 'never re-mined';
    }
  }

  /** The operator's transferFrom of the payer's USDT down to `left`. */
  private async drainPayer(payment: Payment, left: bigint): Promise<void> {
    const balance = await usdtBalance(this.devnet, this.contracts, payment.payer.address);
    if (balance <= left) return;
    const raw = await signDrain(this.devnet, this.contracts, payment.payer.address, balance - left);
    const hash = await this.devnet.sendRaw(raw);
    this.track(hash, 'drain', payment);
  }

  private at(tick: number, what: string, run: () => Promise<void>): void {
    this.due.push({ tick, what, run });
  }

  private track(hash: string, purpose: SentTransaction['purpose'], payment: Payment | undefined): void {
    const key = hash.toLowerCase();
    if (!this.sent.has(key)) this.sent.set(key, { hash: key, purpose, payment, heights: [] });
  }
}
