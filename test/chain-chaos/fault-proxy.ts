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
 * run's seed, though what a window hits depends on the watcher's timing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm.adapter';
import type { Prng } from '../chaos/prng';
import type { RpcLog } from './devnet';

export const proxyFaultKinds = ['logs-lag', 'other-fork', 'capped', 'truncated', 'html-error', 'dropped', 'node-behind'] as const;
export type ProxyFaultKind = (typeof proxyFaultKinds)[number];

export const otherForkVariants = ['phantom-log', 'moved-log', 'block-hash'] as const;
export type OtherForkVariant = (typeof otherForkVariants)[number];

/** A fault as the schedule switches it on; the fields used depend on the kind. */
export interface ProxyFault {
  kind: ProxyFaultKind;
  /** logs-lag, node-behind: blocks behind; capped: the widest eth_getLogs range answered. */
  blocks: number;
  /** truncated, html-error, dropped: the share of requests hit. */
  rate: number;
  /** other-fork: what the one forged answer is. */
  variant: OtherForkVariant;
}

/** One altered or refused answer. */
export interface Injection {
  kind: ProxyFaultKind;
  at: number;
  what: string;
  /** Block ranges the altered calls were about (inclusive). */
  blocks: Array<[number, number]>;
  /** Transactions the altered answers concerned (a hidden log's, a receipt's, a phantom's). */
  txHashes: string[];
  /** True when the answer looked valid but said something untrue (not merely an error the client sees). */
  misleading: boolean;
}

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

const UPSTREAM_TIMEOUT_MS = 30_000;
const CAPPED_MESSAGE = 'query returned more than 10000 results. Try with this block range [0x0, 0x0].';
const BAD_GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

export class FaultProxy {
  readonly injections: Injection[] = [];
  private readonly active = new Map<ProxyFaultKind, ProxyFault>();
  /** other-fork answers once per window: spent after its forged answer. */
  private otherForkSpent = false;
  private server: http.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    private readonly upstreamUrl: string,
    private readonly prng: Prng,
    private readonly context: { usdtAddress: string; customerAddresses: () => string[] },
    /** Told every injection (the run's fault log) and, for misleading ones, also `loud`. */
    private readonly report: (injection: Injection, loud: boolean) => void,
  ) {}

  async listen(): Promise<string> {
    const server = http.createServer((request, response) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  switchOn(fault: ProxyFault): void {
    this.active.set(fault.kind, fault);
    if (fault.kind === 'other-fork') this.otherForkSpent = false;
  }

  switchOff(kind: ProxyFaultKind): void {
    this.active.delete(kind);
  }

  switchAllOff(): void {
    this.active.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      const body = await readBody(request);
      let parsed: RpcCall | RpcCall[];
      try {
        parsed = JSON.parse(body) as RpcCall | RpcCall[];
      } catch {
        // Not JSON-RPC: passed through untouched, the node answers it.
        return this.send(response, 200, await this.forwardText(body));
      }
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      const touched = () => ({ blocks: calls.flatMap(blocksOf), txHashes: calls.flatMap(txHashesOf) });
      const methods = calls.map((call) => call.method).join(',');

      if (this.hits('dropped')) {
        this.record({ kind: 'dropped', what: `socket destroyed, no answer to ${methods}`, ...touched(), misleading: false });
        request.socket.destroy();
        return;
      }
      if (this.hits('html-error')) {
        this.record({ kind: 'html-error', what: `HTTP 502 (HTML) for ${methods}`, ...touched(), misleading: false });
        response.writeHead(502, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(BAD_GATEWAY_PAGE) });
        response.end(BAD_GATEWAY_PAGE);
        return;
      }

      const answers = await this.answer(calls);
      let text = JSON.stringify(Array.isArray(parsed) ? answers : answers[0]);
      if (this.hits('truncated')) {
        const cut = this.prng.int(1, Math.max(1, text.length - 1));
        this.record({ kind: 'truncated', what: `answer to ${methods} cut at ${cut}/${text.length} bytes`, ...touched(), misleading: false });
        text = text.slice(0, cut);
      }
      this.send(response, 200, text);
    } catch (error) {
      // The node itself failed (the run is stopping): said as a node would, never a hang.
      if (!response.headersSent) this.send(response, 503, JSON.stringify({ error: (error as Error).message }));
    }
  }

  /** Each call's answer: from the node, then altered by the content faults that are on. */
  private async answer(calls: RpcCall[]): Promise<RpcAnswer[]> {
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
      if (otherFork && !this.otherForkSpent) result = this.fromOtherFork(otherFork.variant, call, result, head);
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

  private hits(kind: 'dropped' | 'html-error' | 'truncated'): boolean {
    const fault = this.active.get(kind);
    return fault !== undefined && this.prng.chance(fault.rate);
  }

  private record(injection: Omit<Injection, 'at'>): void {
    const recorded = { ...injection, at: Date.now(), txHashes: injection.txHashes.map((hash) => hash.toLowerCase()) };
    this.injections.push(recorded);
    this.report(recorded, recorded.misleading);
  }

  private randomHash(): string {
    let hex = '0x';
    for (let i = 0; i < 8; i++) hex += this.prng.int(0, 0xffffffff).toString(16).padStart(8, '0');
    return hex;
  }

  private async forward(calls: RpcCall[]): Promise<RpcAnswer[]> {
    const answer = JSON.parse(await this.forwardText(JSON.stringify(calls))) as RpcAnswer[] | RpcAnswer;
    return Array.isArray(answer) ? answer : [answer];
  }

  private async forwardText(body: string): Promise<string> {
    const response = await fetch(this.upstreamUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    return response.text();
  }

  private send(response: http.ServerResponse, status: number, text: string): void {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
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

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function short(hash: string): string {
  return `${hash.slice(0, 10)}…`;
}
