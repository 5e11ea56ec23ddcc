/**
 * The fault proxy: an HTTP server on loopback between inflow's chain watcher and anvil, answering
 * JSON-RPC (single calls and the batches ethers sends) as a flaky or misleading provider would.
 * The runner switches each fault on for a bounded time (a window); while it is on:
 *
 *   logs-lag     eth_getLogs answers as a backend whose log index lags: logs of the newest k blocks omitted
 *   other-fork   ONE call answered from another fork: a phantom Transfer log (a transaction only that
 *                fork has), a real log with another blockHash, or a block with another hash
 *   capped       eth_getLogs over more than n blocks answers "query returned more than 10000 results"
 *   truncated    a share of responses cut off mid-JSON
 *   html-error   a share of requests answered HTTP 502 with an HTML page
 *   dropped      a share of requests whose socket is destroyed without an answer
 *   node-behind  the node is k blocks behind: eth_blockNumber says head−k, and blocks, receipts,
 *                transactions and logs past that are null or absent
 *
 * Every injection (an answer altered or refused) is recorded with what it touched (block ranges,
 * transaction hashes), for the report to attribute outcomes to faults, and written to the run's
 * fault log; its content-changing ones are also logged as they happen. Randomness comes from the
 * run's seed, though what a window hits depends on the watcher's timing. The server, the
 * request-level faults and the records are proxy-core.ts's, shared with the Tron proxy (tron-proxy.ts).
 */
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm.adapter';
import type { Prng } from '../chaos/prng';
import type { RpcLog } from './devnet';
import { FaultProxyCore, short, unique, type Injection, type ProxyFaultKind, type RequestAbout } from './proxy-core';

export { short, type Injection, type ProxyFault, type ProxyFaultKind } from './proxy-core';

export const proxyFaultKinds = [
  'logs-lag',
  'other-fork',
  'capped',
  'truncated',
  'html-error',
  'dropped',
  'node-behind',
] as const satisfies readonly ProxyFaultKind[];

export const otherForkVariants = ['phantom-log', 'moved-log', 'block-hash'] as const;
export type OtherForkVariant = (typeof otherForkVariants)[number];

interface RpcCall {
  jsonrpc: '2.0';
  id: number | string;
  method: string;
  params?: unknown[];
}

interface RpcAnswer {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string };
}

const CAPPED_MESSAGE = 'query returned more than 10000 results. Try with this block range [0x0, 0x0].';

export class FaultProxy extends FaultProxyCore {
  constructor(
    upstreamUrl: string,
    prng: Prng,
    private readonly context: { usdtAddress: string; customerAddresses: () => string[] },
    report: (injection: Injection, misleading: boolean) => void,
  ) {
    super('evm', upstreamUrl, prng, report);
  }

  protected about(_path: string, body: string): RequestAbout {
    const calls = parseCalls(body);
    if (!calls) return { what: 'a request that is not JSON-RPC', blocks: [], txHashes: [] };
    return { what: calls.map((call) => call.method).join(','), blocks: calls.flatMap(blocksOf), txHashes: calls.flatMap(txHashesOf) };
  }

  protected async answer(path: string, body: string): Promise<string> {
    const parsed = parseCalls(body);
    // Not JSON-RPC: passed through untouched, the node answers it.
    if (!parsed) return this.forwardText(path, body);
    const answers = await this.answerCalls(parsed);
    return JSON.stringify(Array.isArray(JSON.parse(body)) ? answers : answers[0]);
  }

  /** Each call's answer: from the node, then altered by the content faults that are on. */
  private async answerCalls(calls: RpcCall[]): Promise<RpcAnswer[]> {
    const behind = this.active.get('node-behind');
    const lag = this.active.get('logs-lag');
    const capped = this.active.get('capped');
    const otherFork = this.otherForkSpent ? undefined : this.active.get('other-fork');
    const needsHead = behind || lag || capped || otherFork;
    const head = needsHead ? Number(((await this.forward([{ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber' }]))[0]!.result as string) ?? '0x0') : 0;
    const visibleHead = behind ? Math.max(0, head - behind.blocks) : head;

    // Calls refused before the node sees them (capped ranges); the others go to the node as one batch.
    const refused = new Map<number | string, RpcAnswer>();
    const forwarded: RpcCall[] = [];
    for (const call of calls) {
      if (capped && call.method === 'eth_getLogs') {
        const range = logRange(call, head);
        if (range && range[1] - range[0] + 1 > capped.blocks) {
          refused.set(call.id, { jsonrpc: '2.0', id: call.id, error: { code: -32005, message: CAPPED_MESSAGE } });
          this.record({
            kind: 'capped',
            what: `eth_getLogs ${range[0]}..${range[1]} refused (cap ${capped.blocks} blocks)`,
            blocks: [range],
            txHashes: [],
            misleading: false,
          });
          continue;
        }
      }
      // A node behind has no "latest" past its own head.
      if (behind && call.method === 'eth_getBlockByNumber' && typeof call.params?.[0] === 'string' && !call.params[0].startsWith('0x')) {
        forwarded.push({ ...call, params: [toHex(visibleHead), ...call.params.slice(1)] });
        continue;
      }
      forwarded.push(call);
    }
    const fromNode = forwarded.length > 0 ? await this.forward(forwarded) : [];
    const byId = new Map(fromNode.map((answer) => [answer.id, answer]));

    return calls.map((call) => {
      const answer = refused.get(call.id) ?? byId.get(call.id) ?? { jsonrpc: '2.0', id: call.id, error: { code: -32603, message: 'no answer from the node' } };
      if (answer.error || answer.result === undefined) return answer;
      let result: unknown = answer.result;
      if (behind) result = this.asNodeBehind(call, result, visibleHead, head);
      if (lag && call.method === 'eth_getLogs') result = this.withLaggingLogs(call, result as RpcLog[], head - lag.blocks, lag.blocks);
      if (otherFork && !this.otherForkSpent) result = this.fromOtherFork(otherFork.variant as OtherForkVariant, call, result, head);
      return { ...answer, result };
    });
  }

  private asNodeBehind(call: RpcCall, result: unknown, visibleHead: number, head: number): unknown {
    const hide = (what: string, blocks: Array<[number, number]>, txHashes: string[] = []) =>
      this.record({ kind: 'node-behind', what: `${what} (node at ${visibleHead}, real head ${head})`, blocks, txHashes, misleading: true });
    switch (call.method) {
      case 'eth_blockNumber':
        if (Number(result) > visibleHead) hide(`eth_blockNumber answered ${visibleHead}`, [[visibleHead + 1, head]]);
        return toHex(Math.min(Number(result), visibleHead));
      case 'eth_getBlockByNumber':
      case 'eth_getBlockByHash': {
        const number = result === null ? undefined : Number((result as { number: string }).number);
        if (number === undefined || number <= visibleHead) return result;
        hide(`${call.method} of block ${number} answered null`, [[number, number]]);
        return null;
      }
      case 'eth_getTransactionReceipt':
      case 'eth_getTransactionByHash': {
        const found = result as { blockNumber?: string | null; transactionHash?: string; hash?: string } | null;
        if (!found?.blockNumber || Number(found.blockNumber) <= visibleHead) return result;
        const hash = (found.transactionHash ?? found.hash)!;
        hide(`${call.method} of ${hash} (block ${Number(found.blockNumber)}) answered null`, [[Number(found.blockNumber), Number(found.blockNumber)]], [hash]);
        return null;
      }
      case 'eth_getLogs': {
        const logs = result as RpcLog[];
        const kept = logs.filter((log) => Number(log.blockNumber) <= visibleHead);
        if (kept.length < logs.length) {
          const hidden = logs.filter((log) => Number(log.blockNumber) > visibleHead);
          hide(`eth_getLogs without ${hidden.length} log(s) past its head`, [[visibleHead + 1, head]], unique(hidden.map((log) => log.transactionHash)));
        }
        return kept;
      }
      default:
        return result;
    }
  }

  private withLaggingLogs(call: RpcCall, logs: RpcLog[], indexedUpTo: number, lagBlocks: number): RpcLog[] {
    if (!Array.isArray(logs)) return logs;
    const kept = logs.filter((log) => Number(log.blockNumber) <= indexedUpTo);
    if (kept.length < logs.length) {
      const hidden = logs.filter((log) => Number(log.blockNumber) > indexedUpTo);
      const range = logRange(call, indexedUpTo + lagBlocks)!;
      this.record({
        kind: 'logs-lag',
        what: `eth_getLogs ${range[0]}..${range[1]} without ${hidden.length} log(s) of blocks past ${indexedUpTo} (${hidden.map((log) => `${short(log.transactionHash)}@${Number(log.blockNumber)}`).join(', ')})`,
        blocks: [[indexedUpTo + 1, indexedUpTo + lagBlocks]],
        txHashes: unique(hidden.map((log) => log.transactionHash)),
        misleading: true,
      });
    }
    return kept;
  }

  /** The one forged answer of an other-fork window, when this call is one it can forge. */
  private fromOtherFork(variant: OtherForkVariant, call: RpcCall, result: unknown, head: number): unknown {
    const customers = new Set(this.context.customerAddresses().map((address) => address.toLowerCase()));
    const toCustomer = (log: RpcLog) =>
      log.topics[0] === TRANSFER_TOPIC && log.topics.length === 3 && customers.has(`0x${log.topics[2]!.slice(26)}`.toLowerCase());
    const forged = (what: string, blocks: Array<[number, number]>, txHashes: string[]) => {
      this.otherForkSpent = true;
      this.record({ kind: 'other-fork', what, blocks, txHashes, misleading: true });
    };
    if (variant === 'block-hash' && call.method === 'eth_getBlockByNumber' && result !== null) {
      const block = result as { number: string; hash: string; transactions: Array<string | { blockHash: string }> };
      const hash = this.randomHash();
      forged(
        `block ${Number(block.number)} answered with hash ${short(hash)} instead of ${short(block.hash)}`,
        [[Number(block.number), Number(block.number)]],
        [],
      );
      return { ...block, hash, transactions: block.transactions.map((tx) => (typeof tx === 'string' ? tx : { ...tx, blockHash: hash })) };
    }
    if (call.method !== 'eth_getLogs' || !Array.isArray(result)) return result;
    const logs = result as RpcLog[];
    if (variant === 'moved-log') {
      const index = logs.findIndex(toCustomer);
      if (index === -1) return result;
      const log = logs[index]!;
      const hash = this.randomHash();
      forged(
        `log of ${short(log.transactionHash)} answered in block ${short(hash)} (another fork's block ${Number(log.blockNumber)})`,
        [[Number(log.blockNumber), Number(log.blockNumber)]],
        [log.transactionHash],
      );
      return logs.map((each, i) => (i === index ? { ...each, blockHash: hash } : each));
    }
    if (variant === 'phantom-log') {
      const range = logRange(call, head);
      const recipients = [...customers];
      if (!range || recipients.length === 0) return result;
      const blockNumber = this.prng.int(range[0], range[1]);
      const to = this.prng.pick(recipients);
      const amount = BigInt(this.prng.int(5, 500)) * 1_000_000n; // 5–500 USDT
      const phantom: RpcLog = {
        address: this.context.usdtAddress.toLowerCase(),
        topics: [TRANSFER_TOPIC, topicOf(`0x${'ab'.repeat(20)}`), topicOf(to)],
        data: `0x${amount.toString(16).padStart(64, '0')}`,
        blockNumber: toHex(blockNumber),
        blockHash: this.randomHash(),
        transactionHash: this.randomHash(),
        transactionIndex: '0x0',
        logIndex: '0x0',
        removed: false,
      };
      forged(
        `eth_getLogs ${range[0]}..${range[1]} answered with a phantom transfer of ${amount} to ${to} in tx ${phantom.transactionHash} (block ${blockNumber} of another fork)`,
        [[blockNumber, blockNumber]],
        [phantom.transactionHash],
      );
      return [...logs, phantom];
    }
    return result;
  }

  private randomHash(): string {
    return `0x${this.randomHex()}`;
  }

  private async forward(calls: RpcCall[]): Promise<RpcAnswer[]> {
    const answer = JSON.parse(await this.forwardText('/', JSON.stringify(calls))) as RpcAnswer[] | RpcAnswer;
    return Array.isArray(answer) ? answer : [answer];
  }
}

/** The request's JSON-RPC calls (a batch or one), or undefined when it is not JSON. */
function parseCalls(body: string): RpcCall[] | undefined {
  try {
    const parsed = JSON.parse(body) as RpcCall | RpcCall[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return undefined;
  }
}

/** The blocks an eth_getLogs call asks about, tags resolved against `head`. */
function logRange(call: RpcCall, head: number): [number, number] | undefined {
  const filter = call.params?.[0] as { fromBlock?: string; toBlock?: string; blockHash?: string } | undefined;
  if (!filter || filter.blockHash) return undefined;
  const resolve = (tag: string | undefined, fallback: number) => (tag === undefined ? fallback : tag.startsWith('0x') ? Number(tag) : head);
  return [resolve(filter.fromBlock, head), resolve(filter.toBlock, head)];
}

/** The blocks a call is about, for attributing an injection that refused it. */
function blocksOf(call: RpcCall): Array<[number, number]> {
  if (call.method === 'eth_getLogs') {
    const filter = call.params?.[0] as { fromBlock?: string; toBlock?: string } | undefined;
    if (filter?.fromBlock?.startsWith('0x') && filter.toBlock?.startsWith('0x')) return [[Number(filter.fromBlock), Number(filter.toBlock)]];
  }
  if (call.method === 'eth_getBlockByNumber' && typeof call.params?.[0] === 'string' && call.params[0].startsWith('0x')) {
    const number = Number(call.params[0]);
    return [[number, number]];
  }
  return [];
}

function txHashesOf(call: RpcCall): string[] {
  return (call.method === 'eth_getTransactionReceipt' || call.method === 'eth_getTransactionByHash') && typeof call.params?.[0] === 'string'
    ? [call.params[0]]
    : [];
}

function toHex(number: number): string {
  return `0x${number.toString(16)}`;
}

function topicOf(address: string): string {
  return `0x${address.toLowerCase().replace(/^0x/, '').padStart(64, '0')}`;
}
