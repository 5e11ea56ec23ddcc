/**
 * The runner's hand on the Tron stand-in, as driver.ts is on anvil: one block per tick (/devnet/mine;
 * the stand-in produces none by itself), the payments, the blocks each transaction has been in, and
 * the reorgs (/devnet/reorg, dropping our transactions from the replaced blocks). Each payment a
 * reorg drops gets a fate, the least used of those its kind allows first (and of those, the one
 * fewest kinds allow):
 *
 *   re-mined   mined again 1–8 blocks later with the same txID (/devnet/resend)
 *   failed     mined again failing: a TRC-20 transfer whose receipt is REVERT (no log), or a
 *              forwarder call that reverts (its internal transaction rejected)
 *   pays-less  (TRC-20) mined again with the same txID whose Transfer log, at the same place, pays
 *              a share of the amount, or nothing
 *   never      not mined again: inflow fails it once the chain has grown 19 blocks (Tron's depth) past it
 *
 * A TransferContract cannot fail or pay otherwise once valid: TRX is re-mined or never.
 */
import type { Log } from '../../dev/tools/progress';
import type { Prng } from '../chaos/prng';
import { chooseFate, type Fate, type InflowView, type ReorgRecord, type SentTransaction } from './driver';
import { short } from './proxy-core';
import { type TronNode, type TronPayment, type TronPaymentKind } from './tron-chain';

const fatesByKind: Record<TronPaymentKind, readonly Fate[]> = {
  trc20: ['re-mined', 'failed', 'pays-less', 'never'],
  'trx-contract': ['re-mined', 'failed', 'never'],
  trx: ['re-mined', 'never'],
  dust: ['re-mined', 'never'],
};

export class TronDriver {
  tick = 0;
  lastChangeTick = 0;
  readonly sent = new Map<string, SentTransaction<TronPayment>>();
  readonly reorgs: Array<ReorgRecord<TronPayment>> = [];
  private readonly ourTransactionsByBlock = new Map<number, string[]>();
  private due: Array<{ tick: number; what: string; run: () => Promise<void> }> = [];
  private readonly fateCounts = new Map<Fate, number>();

  constructor(
    readonly node: TronNode,
    private readonly prng: Prng,
    private readonly log: Log,
    private readonly inflowView: InflowView,
  ) {}

  get pendingActions(): number {
    return this.due.length;
  }

  /** One block: `before` (the plan's faults, reorgs and payments for this tick), the due fate actions, then the block. */
  async runTick(before?: () => Promise<void>): Promise<number> {
    await before?.();
    const now = this.due.filter((action) => action.tick <= this.tick);
    this.due = this.due.filter((action) => action.tick > this.tick);
    for (const action of now) {
      this.lastChangeTick = this.tick;
      await action.run().catch((error: unknown) => this.log(`tron ${action.what}: ${(error as Error).message}`));
    }
    const number = await this.node.mine();
    const [block] = await this.node.blocks(number, number);
    const ours = (block?.transactions ?? []).map((transaction) => transaction.txID.toLowerCase()).filter((hash) => this.sent.has(hash));
    this.ourTransactionsByBlock.set(number, ours);
    for (const hash of ours) this.sent.get(hash)!.heights.push(number);
    this.tick++;
    return number;
  }

  async sendPayment(payment: TronPayment): Promise<void> {
    this.lastChangeTick = this.tick;
    try {
      payment.txID = (await this.node.send(payment)).toLowerCase();
      this.sent.set(payment.txID, { hash: payment.txID, purpose: 'payment', payment, heights: [] });
    } catch (error) {
      this.log(`tron ${payment.id}: sending refused: ${(error as Error).message}`);
    }
  }

  /** Replaces the last `depth` blocks; every payment they held is dropped and gets a fate. */
  async reorg(depth: number, round: number): Promise<void> {
    const head = await this.node.head();
    const replaced = Array.from({ length: depth }, (_, i) => head - depth + 1 + i);
    const dropped = replaced.flatMap((number) => this.ourTransactionsByBlock.get(number) ?? []);
    const inflowHad = await this.inflowView(dropped);
    await this.node.reorg(depth, dropped);
    for (const number of replaced) this.ourTransactionsByBlock.set(number, []);
    this.lastChangeTick = this.tick;
    const record: ReorgRecord<TronPayment> = { id: `tr${this.reorgs.length + 1}`, round, at: Date.now(), head, depth, dropped: [] };
    for (const hash of dropped) {
      const payment = this.sent.get(hash)!.payment!;
      const fate = chooseFate(this.prng, this.fateCounts, this.rarestFirst(fatesByKind[payment.kind]));
      record.dropped.push({ hash, payment, fate, plan: this.carryOut(payment, fate), inflowHad: inflowHad.get(hash) ?? 'nothing yet' });
    }
    this.reorgs.push(record);
    const what = record.dropped.map((each) => `${each.payment!.id} (${each.payment!.kind}; inflow had: ${each.inflowHad}) → ${each.plan}`);
    this.log(
      `tron reorg ${record.id}: depth ${depth}, blocks ${replaced[0]}–${head} replaced${what.length ? `; dropped ${what.join('; ')}` : '; nothing of ours in them'}`,
    );
  }

  /**
   * Of the least used allowed fates, those fewest kinds allow (pays-less: TRC-20 only; failed:
   * TRC-20 and the forwarder's): a few reorgs per round drop a TRC-20 payment rarely enough that
   * it must take the fates only it can.
   */
  private rarestFirst(allowed: readonly Fate[]): Fate[] {
    const least = Math.min(...allowed.map((fate) => this.fateCounts.get(fate) ?? 0));
    const unused = allowed.filter((fate) => (this.fateCounts.get(fate) ?? 0) === least);
    const kindsAllowing = (fate: Fate) => Object.values(fatesByKind).filter((fates) => fates.includes(fate)).length;
    const rarest = Math.min(...unused.map(kindsAllowing));
    return unused.filter((fate) => kindsAllowing(fate) === rarest);
  }

  /** Schedules what a fate does; says what, for the log. */
  private carryOut(payment: TronPayment, fate: Fate): string {
    const later = this.tick + this.prng.int(1, 8);
    const when = `${later - this.tick} block(s) later`;
    const txID = payment.txID!;
    const resend = (as: { fail?: boolean; paid?: bigint }) =>
      this.due.push({ tick: later, what: `re-sending ${payment.id}`, run: () => this.node.resend(txID, as) });
    switch (fate) {
      case 're-mined':
        resend({});
        return `re-mined ${when}, same txID ${short(txID)}`;
      case 'failed':
        resend({ fail: true });
        return `re-mined ${when} failing (${payment.kind === 'trc20' ? 'receipt REVERT' : 'forwarder call reverts, internal transaction rejected'})`;
      case 'pays-less': {
        const paid = this.prng.chance(1 / 3) ? 0n : (payment.amount * BigInt(this.prng.int(1, 999))) / 1000n;
        resend({ paid });
        return `re-mined ${when} paying ${paid === 0n ? 'nothing' : paid} instead of ${payment.amount}`;
      }
      case 'never':
        return 'never re-mined';
    }
  }
}
