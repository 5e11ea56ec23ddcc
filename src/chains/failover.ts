/**
 * Several nodes for one chain, seen as one ChainAdapter: providers lag, fail and sit on other forks,
 * and a deposit must not depend on one of them. Each round starts with `head()`, which asks every
 * node at once and picks the node the round reads from: the first one, in the configured order,
 * that answered and is within `maxLagBlocks` of the highest head (a node that errs or lags is
 * passed over). Every read of the round goes to that node, and to the next usable one when it
 * fails. With a quorum, the head is one at least `quorum` nodes have reached, and the canonical
 * hash of each block asked for is the one at least `quorum` nodes agree on; a block they do not
 * agree on fails the call (the round is retried), and the nodes that disagreed with the majority
 * are named in the log and in each node's status, which the watcher keeps in its cursor for
 * `/healthz`. One node configured: it is used as is.
 */
import type { ChainAdapter, Inclusion, RecordedTransfer, ScannedRange, WatchedAddresses } from './chain-adapter';

export interface ChainNode {
  /** How logs and `/healthz` name it: its host, never its URL (a hosted node's key is often in the path). */
  name: string;
  adapter: ChainAdapter;
}

export interface NodeStatus {
  name: string;
  /** `ok`; `lagging` (behind the others by more than allowed); `down` (its last answer was an error); `disagrees` (outvoted on a block hash). */
  state: 'ok' | 'lagging' | 'down' | 'disagrees';
  head: number | null;
  /** What went wrong, in one line (no URL). */
  detail?: string;
}

export interface FailoverOptions {
  /** How many nodes must agree on the head and on block hashes (1: no quorum, the chosen node's word). */
  quorum: number;
  /** How far behind the highest head a node may be and still be read from. */
  maxLagBlocks: number;
  /** Where a node's failure or disagreement is said (the worker's logger). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

export class FailoverChainAdapter implements ChainAdapter {
  private readonly statuses: Map<string, NodeStatus>;
  /** The nodes the current round reads from, in order of preference. */
  private usable: ChainNode[];

  constructor(
    private readonly nodes: ChainNode[],
    private readonly options: FailoverOptions,
  ) {
    if (nodes.length === 0) throw new RangeError('a chain needs at least one node');
    if (options.quorum < 1 || options.quorum > nodes.length)
      throw new RangeError(`a quorum of ${options.quorum} needs as many nodes; ${nodes.length} configured`);
    this.statuses = new Map(nodes.map((node) => [node.name, { name: node.name, state: 'ok', head: null }]));
    this.usable = [...nodes];
  }

  /** Each node as the last round saw it. */
  nodeStatuses(): NodeStatus[] {
    return this.nodes.map((node) => ({ ...this.statuses.get(node.name)! }));
  }

  /** What the nodes cannot see, as the first of them says (they run the same software as configured). */
  limitations(): string[] {
    const first = this.nodes[0]!.adapter as ChainAdapter & { limitations?: () => string[] };
    return first.limitations?.() ?? [];
  }

  get maxBlockRange(): number {
    return this.usable[0]!.adapter.maxBlockRange;
  }

  async head(): Promise<number> {
    const heads = await Promise.all(
      this.nodes.map((node) =>
        node.adapter.head().then(
          (head) => ({ node, head }),
          (error: unknown) => ({ node, error }),
        ),
      ),
    );
    const answered: Array<{ node: ChainNode; head: number }> = [];
    for (const answer of heads) {
      if ('error' in answer) this.mark(answer.node, { state: 'down', head: null, detail: oneLine(answer.error) });
      else answered.push(answer);
    }
    if (answered.length < this.options.quorum) {
      throw new Error(`${answered.length} of ${this.nodes.length} nodes answered, fewer than the quorum of ${this.options.quorum}`);
    }
    // The highest head at least `quorum` nodes have reached: one node alone cannot lead the watcher on.
    const agreed = answered.map((answer) => answer.head).sort((a, b) => b - a)[this.options.quorum - 1]!;
    const highest = Math.max(...answered.map((answer) => answer.head));
    // Read first from the nodes that have the agreed head, in the configured order; a node a little
    // behind is a fallback (a read past its head fails over); one far behind is not read from.
    const ahead: ChainNode[] = [];
    const behind: ChainNode[] = [];
    for (const { node, head } of answered) {
      if (highest - head > this.options.maxLagBlocks) {
        this.mark(node, { state: 'lagging', head, detail: `${highest - head} blocks behind the highest head` });
        continue;
      }
      (head >= agreed ? ahead : behind).push(node);
      this.mark(node, { state: 'ok', head });
    }
    this.usable = [...ahead, ...behind];
    return agreed;
  }

  safeHead(): Promise<number> {
    return this.withFailover((adapter) => {
      if (!adapter.safeHead) throw new Error('this chain has no safe head');
      return adapter.safeHead();
    });
  }

  transfersTo(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange> {
    return this.withFailover((adapter) => adapter.transfersTo(fromBlock, toBlock, watched));
  }

  blockTimestamp(number: number): Promise<number> {
    return this.withFailover((adapter) => adapter.blockTimestamp(number));
  }

  inclusions(transfers: RecordedTransfer[]): Promise<Array<Inclusion | null>> {
    return this.withFailover((adapter) => adapter.inclusions(transfers));
  }

  async blockHashes(numbers: number[]): Promise<Array<string | null>> {
    if (this.options.quorum === 1) return this.withFailover((adapter) => adapter.blockHashes(numbers));
    const answers = await Promise.all(
      this.usable.map((node) =>
        node.adapter.blockHashes(numbers).then(
          (hashes) => ({ node, hashes }),
          (error: unknown) => ({ node, error }),
        ),
      ),
    );
    const voters: Array<{ node: ChainNode; hashes: Array<string | null> }> = [];
    for (const answer of answers) {
      if ('error' in answer) this.mark(answer.node, { state: 'down', detail: oneLine(answer.error) });
      else voters.push(answer);
    }
    return numbers.map((number, i) => {
      const votes = new Map<string | null, ChainNode[]>();
      for (const { node, hashes } of voters) votes.set(hashes[i] ?? null, [...(votes.get(hashes[i] ?? null) ?? []), node]);
      const [winner, backers] = [...votes.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [null, []];
      if (backers.length < this.options.quorum) {
        throw new Error(`block ${number}: no ${this.options.quorum} nodes agree on its hash (${[...votes.values()].map((group) => group.length).join(' / ')})`);
      }
      for (const [hash, group] of votes) {
        if (hash === winner) continue;
        for (const node of group)
          this.mark(node, { state: 'disagrees', detail: `block ${number}: ${hash ?? 'none'} where ${backers.length} nodes have ${winner}` });
      }
      return winner;
    });
  }

  /** Runs `read` on the round's node, and on the next usable one each time it fails; the last failure is thrown. */
  private async withFailover<T>(read: (adapter: ChainAdapter) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const node of this.usable) {
      try {
        return await read(node.adapter);
      } catch (error) {
        last = error;
        if (this.nodes.length > 1) this.mark(node, { state: 'down', detail: oneLine(error) });
      }
    }
    throw last;
  }

  private mark(node: ChainNode, change: Partial<NodeStatus> & Pick<NodeStatus, 'state'>): void {
    const status = this.statuses.get(node.name)!;
    const next = { ...status, ...change };
    if (next.state === 'ok') delete next.detail;
    if (next.state !== 'ok' && (next.state !== status.state || next.detail !== status.detail)) {
      this.options.warn?.(`chain node ${node.name} is ${next.state}`, { node: node.name, state: next.state, detail: next.detail });
    }
    this.statuses.set(node.name, next);
  }
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}
