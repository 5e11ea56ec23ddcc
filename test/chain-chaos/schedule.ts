/**
 * The run's plan, all of it drawn from the seed before the first round: per round, which block
 * (tick) each payment is sent in, when each proxy fault is on, and when the chain reorganises and
 * how deep. The runner mines one block per tick, so a payment lands in the block of its tick and a
 * reorg of depth d at tick t replaces the blocks of ticks t−d … t−1.
 *
 * A round has two phases, so that one fault does not hide another's damage: inflow rescans the
 * last 12 blocks whenever the block it scanned last has changed (a reorg), which would find again
 * what a lagging log index hid just before. First the seven proxy faults, each switched on once,
 * one after another ('other-fork', whose forged block hash also makes inflow rescan, first); then,
 * at least RESCAN_DEPTH blocks later, three reorgs: one shallow (1–2), one about the confirmation
 * depth (3–4), one deeper than it (5 to the maximum). Each reorg is placed so that a payment sits
 * in its deepest replaced blocks: the watcher has had time to see it, and the reorg takes it away.
 *
 * The Tron stand-in gets a plan of its own (planTronRun) in the same ticks, drawn the same way: its
 * six proxy faults (no `capped`), then, TRON_RESCAN_DEPTH later (inflow rescans 19 blocks after a
 * Tron reorg), three reorgs that each drop a payment (TRC-20, TRX through the forwarder, TRX).
 */
import type { Prng } from '../chaos/prng';
import { otherForkVariants, proxyFaultKinds, type ProxyFault, type ProxyFaultKind } from './fault-proxy';
import { planPayment, type Customer, type Payment, type PaymentKind } from './load';
import { planTronPayment, type TronPayment, type TronPaymentKind } from './tron-chain';
import { tronOtherForkVariants, tronProxyFaultKinds } from './tron-proxy';

export interface FaultWindow {
  fault: ProxyFault;
  /** Round ticks: switched on before the block of `fromTick` is mined, off before that of `toTick`. */
  fromTick: number;
  toTick: number;
}

export interface PlannedReorg {
  tick: number;
  depth: number;
}

export type UnsignedPayment = Omit<Payment, 'raw' | 'hash'>;

export interface RoundPlan {
  round: number;
  blocks: number;
  windows: FaultWindow[];
  reorgs: PlannedReorg[];
  payments: Array<{ tick: number; payment: UnsignedPayment }>;
}

export interface PlanOptions {
  seed: number;
  rounds: number;
  customers: Customer[];
  paymentKinds: readonly PaymentKind[];
  maxReorgDepth: number;
}

/** How often each kind is picked (kinds not in the run's list are left out). */
const kindWeights: Record<PaymentKind, number> = { usdt: 4, eth: 2, batch: 2, conditional: 3, dust: 1, 'contract-eth': 1 };
/** Ticks kept free at a round's end, so its last payments are mined before the next round's faults. */
const ROUND_TAIL_TICKS = 4;
/** How far back inflow rescans after a reorg (the network's 12 blocks), and a margin: the reorg phase starts this far after the last proxy fault. */
const RESCAN_DEPTH = 14;
/** Blocks between one reorg and the next deeper than the one before could reach: fates of one are carried out before the next. */
const REORG_SPACING = 10;
/** One payment about every this many blocks, besides those the reorgs drop. */
const BLOCKS_PER_PAYMENT = 4;

export function planRun(prng: Prng, options: PlanOptions): RoundPlan[] {
  const plans: RoundPlan[] = [];
  let paymentNumber = 0;
  for (let round = 1; round <= options.rounds; round++) {
    const roundPrng = prng.fork(`round ${round}`);
    const windows = planWindows(roundPrng.fork('windows'), proxyFaultKinds, otherForkVariants);
    const reorgs = planReorgs(roundPrng.fork('reorgs'), windows.at(-1)!.toTick + RESCAN_DEPTH, options.maxReorgDepth);
    const blocks = reorgs.at(-1)!.tick + ROUND_TAIL_TICKS;
    // Payments all round long, and one in the deepest replaced blocks of each reorg, of kinds that
    // between them allow every fate (the ConditionalPayer's pays-less, a transfer's failed, native).
    const anchorKinds = roundPrng.shuffle(anchorKindsFor(roundPrng, options.paymentKinds));
    const planned = [
      ...Array.from({ length: Math.floor(blocks / BLOCKS_PER_PAYMENT) }, () => ({ tick: roundPrng.int(1, blocks - ROUND_TAIL_TICKS), kind: undefined })),
      ...reorgs.map((reorg, i) => ({ tick: reorg.tick - reorg.depth + roundPrng.int(0, Math.min(1, reorg.depth - 1)), kind: anchorKinds[i] })),
    ].sort((a, b) => a.tick - b.tick);
    const payments = planned.map(({ tick, kind }) => ({
      tick,
      payment: planPayment(roundPrng, options.seed, ++paymentNumber, kind ?? pickKind(roundPrng, options.paymentKinds), options.customers),
    }));
    plans.push({ round, blocks, windows, reorgs, payments });
  }
  return plans;
}

/** The kinds of a round's three reorg-anchored payments: conditional, a USDT transfer or batch, a native one (as the run's kinds allow). */
function anchorKindsFor(prng: Prng, kinds: readonly PaymentKind[]): PaymentKind[] {
  const allowed = (wanted: PaymentKind[]) => {
    const present = wanted.filter((kind) => kinds.includes(kind));
    return present.length > 0 ? prng.pick(present) : pickKind(prng, kinds);
  };
  return [allowed(['conditional']), allowed(['usdt', 'batch']), allowed(['eth'])];
}

function pickKind<K extends string>(prng: Prng, kinds: readonly K[], weights: Record<K, number> = kindWeights as Record<K, number>): K {
  const total = kinds.reduce((sum, kind) => sum + weights[kind], 0);
  let roll = prng.next() * total;
  for (const kind of kinds) {
    roll -= weights[kind];
    if (roll < 0) return kind;
  }
  return kinds.at(-1)!;
}

export interface TronRoundPlan {
  round: number;
  blocks: number;
  windows: FaultWindow[];
  reorgs: PlannedReorg[];
  payments: Array<{ tick: number; payment: TronPayment }>;
}

const tronKindWeights: Record<TronPaymentKind, number> = { trc20: 4, trx: 3, 'trx-contract': 2, dust: 1 };
/** Tron's rescan after a reorg (its 19 blocks) and a margin. */
const TRON_RESCAN_DEPTH = 21;

/** The Tron stand-in's rounds: as planRun's, with Tron's faults, payments (t1, t2, …) and rescan depth. */
export function planTronRun(
  prng: Prng,
  options: { rounds: number; customers: string[]; paymentKinds: readonly TronPaymentKind[]; maxReorgDepth: number },
): TronRoundPlan[] {
  const plans: TronRoundPlan[] = [];
  let paymentNumber = 0;
  for (let round = 1; round <= options.rounds; round++) {
    const roundPrng = prng.fork(`tron round ${round}`);
    const windows = planWindows(roundPrng.fork('windows'), tronProxyFaultKinds, tronOtherForkVariants);
    const reorgs = planReorgs(roundPrng.fork('reorgs'), windows.at(-1)!.toTick + TRON_RESCAN_DEPTH, options.maxReorgDepth);
    const blocks = reorgs.at(-1)!.tick + ROUND_TAIL_TICKS;
    const anchorOf = (wanted: TronPaymentKind[]) => {
      const present = wanted.filter((kind) => options.paymentKinds.includes(kind));
      return present.length > 0 ? roundPrng.pick(present) : pickKind(roundPrng, options.paymentKinds, tronKindWeights);
    };
    const anchorKinds = roundPrng.shuffle([anchorOf(['trc20']), anchorOf(['trx-contract', 'trc20']), anchorOf(['trx'])]);
    const planned = [
      ...Array.from({ length: Math.floor(blocks / BLOCKS_PER_PAYMENT) }, () => ({ tick: roundPrng.int(1, blocks - ROUND_TAIL_TICKS), kind: undefined })),
      ...reorgs.map((reorg, i) => ({ tick: reorg.tick - reorg.depth + roundPrng.int(0, Math.min(1, reorg.depth - 1)), kind: anchorKinds[i] })),
    ].sort((a, b) => a.tick - b.tick);
    const payments = planned.map(({ tick, kind }) => ({
      tick,
      payment: planTronPayment(roundPrng, ++paymentNumber, kind ?? pickKind(roundPrng, options.paymentKinds, tronKindWeights), options.customers),
    }));
    plans.push({ round, blocks, windows, reorgs, payments });
  }
  return plans;
}

/** The proxy's faults one after another ('other-fork' first), each on for 3–7 blocks after a gap of 1–2. */
function planWindows(prng: Prng, kinds: readonly ProxyFaultKind[], variants: readonly string[]): FaultWindow[] {
  const order = ['other-fork' as const, ...prng.shuffle(kinds.filter((kind) => kind !== 'other-fork'))];
  let tick = 0;
  return order.map((kind) => {
    const fromTick = tick + prng.int(1, 2);
    tick = fromTick + prng.int(3, 7);
    const fault: ProxyFault = {
      kind,
      // The watcher's ranges are a block or two at the head (wider after a reorg): a cap of 1–2 blocks bites.
      blocks: kind === 'capped' ? prng.int(1, 2) : prng.int(1, kind === 'node-behind' ? 4 : 3),
      rate: prng.int(30, 70) / 100,
      variant: prng.pick(variants),
    };
    return { fault, fromTick, toTick: tick };
  });
}

/** Three reorgs from `fromTick` on, in a seeded order of depth: shallow (1–2), about the confirmation depth (3–4), deeper (5 to the maximum). */
function planReorgs(prng: Prng, fromTick: number, maxDepth: number): PlannedReorg[] {
  const depths = prng.shuffle([prng.int(1, 2), prng.int(3, 4), prng.int(Math.min(5, maxDepth), maxDepth)]);
  let tick = fromTick;
  return depths.map((depth) => {
    // Past the last reorg's fates (re-sent up to 9 blocks later), and deep enough not to reach back into them.
    tick += REORG_SPACING + depth + prng.int(0, 3);
    return { tick, depth };
  });
}
