/**
 * The nodes of one chain as the treasury uses them (INFLOW_RPC_URL_… may list several): reads go
 * to the first node, in the configured order, that answered and is within `maxLagBlocks` of the
 * highest head any of them reported, and to the next such node when a read fails; a broadcast
 * goes to every node. A lagging node would show balances from before the latest transfers: a
 * reconciliation would report differences that are not there, and a sweep would plan on an old
 * balance. The choice is made again every `refreshMs`, and at once after a read failed everywhere.
 * One node: it is used as is. (The chain watcher's own failover, with quorum, is chains/failover.ts.)
 */
export interface NodePoolOptions {
  maxLagBlocks: number;
  /** How long a choice of nodes holds before the heads are asked again. */
  refreshMs: number;
}

export class NodePool<T> {
  private chosen: { nodes: T[]; at: number } | undefined;

  constructor(
    private readonly nodes: readonly T[],
    private readonly headOf: (node: T) => Promise<bigint>,
    private readonly options: NodePoolOptions = { maxLagBlocks: 3, refreshMs: 5_000 },
  ) {
    if (nodes.length === 0) throw new RangeError('a chain needs at least one node');
  }

  /** The nodes reads may go to now, in the configured order. */
  private async usable(): Promise<T[]> {
    if (this.nodes.length === 1) return [...this.nodes];
    if (this.chosen && Date.now() - this.chosen.at < this.options.refreshMs) return this.chosen.nodes;
    const heads = await Promise.all(this.nodes.map((node) => this.headOf(node).catch(() => undefined)));
    const answered = heads.filter((head): head is bigint => head !== undefined);
    if (answered.length === 0) throw new Error(`none of the chain's ${this.nodes.length} nodes answered its head`);
    const highest = answered.reduce((a, b) => (a > b ? a : b));
    const nodes = this.nodes.filter((_, index) => heads[index] !== undefined && highest - heads[index]! <= BigInt(this.options.maxLagBlocks));
    this.chosen = { nodes, at: Date.now() };
    return nodes;
  }

  /** `use` on the first usable node, then on the next when it fails; the last failure when all do. */
  async read<R>(use: (node: T) => Promise<R>): Promise<R> {
    let failure: unknown;
    for (const node of await this.usable()) {
      try {
        return await use(node);
      } catch (error) {
        failure = error;
      }
    }
    this.chosen = undefined;
    throw failure;
  }

  /**
   * `use` on every node at once (a broadcast): the first node's answer that succeeded, in the
   * configured order. When none did, the first refusal a node answered (`answered` tells one from
   * a node that could not be reached), else the first failure.
   */
  async all<R>(use: (node: T) => Promise<R>, answered: (error: unknown) => boolean = () => false): Promise<R> {
    const outcomes = await Promise.allSettled(this.nodes.map((node) => use(node)));
    const succeeded = outcomes.find((outcome): outcome is PromiseFulfilledResult<Awaited<R>> => outcome.status === 'fulfilled');
    if (succeeded) return succeeded.value;
    const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
    throw reasons.find(answered) ?? reasons[0];
  }
}
