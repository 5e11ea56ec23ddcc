/**
 * The Tron fault proxy: between inflow's Tron watcher and the Tron devnet stand-in, answering
 * java-tron's HTTP API (POST /wallet/… with a JSON body) as a flaky or misleading node would. The
 * same windows, PRNG and records as the EVM proxy (the shared parts are proxy-core.ts's); while a
 * fault is on:
 *
 *   logs-lag     the transaction-info index lags the blocks: gettransactioninfobyblocknum answers []
 *                for the newest k blocks, and gettransactioninfobyid {} for their transactions
 *   other-fork   ONE answer from another fork: a block with another blockID (getblockbylimitnext's
 *                last block, or getblockbynum's), a block's infos with a phantom TRC-20 transfer to
 *                a customer (a transaction only that fork has), or a block's infos answered with
 *                the block before's
 *   truncated    a share of responses cut off mid-JSON
 *   html-error   a share of requests answered HTTP 502 with an HTML page
 *   dropped      a share of requests whose socket is destroyed without an answer
 *   node-behind  the node is k blocks behind: getnowblock answers head−k, and blocks, infos and
 *                transactions past it are absent ({} or [], as java-tron answers for what it lacks)
 *
 * There is no `capped`: getblockbylimitnext answers at most 100 blocks by design, and the adapter
 * asks no more.
 */
import { tronAddressToHex } from '../../src/chains/tron/address';
import { TRANSFER_TOPIC } from '../../src/chains/tron/tron.adapter';
import type { Prng } from '../chaos/prng';
import { FaultProxyCore, short, type Injection, type ProxyFaultKind, type RequestAbout } from './proxy-core';

export const tronProxyFaultKinds = ['logs-lag', 'other-fork', 'truncated', 'html-error', 'dropped', 'node-behind'] as const satisfies readonly ProxyFaultKind[];
export const tronOtherForkVariants = ['block-id', 'phantom-info', 'foreign-info'] as const;

interface Block {
  blockID: string;
  block_header: { raw_data: { number?: number } };
  transactions?: Array<{ txID: string }>;
}

interface Info {
  id?: string;
  blockNumber?: number;
}

const numberOf = (block: Block) => block.block_header?.raw_data?.number ?? 0;
const word = (hex: string) => hex.padStart(64, '0');

export class TronFaultProxy extends FaultProxyCore {
  constructor(
    upstreamUrl: string,
    prng: Prng,
    private readonly context: { usdtAddress: string; customerAddresses: () => string[] },
    report: (injection: Injection, misleading: boolean) => void,
  ) {
    super('tron', upstreamUrl, prng, report);
  }

  protected about(path: string, body: string): RequestAbout {
    const request = parseBody(body);
    const blocks: Array<[number, number]> = [];
    if (typeof request.num === 'number') blocks.push([request.num, request.num]);
    if (typeof request.startNum === 'number' && typeof request.endNum === 'number') blocks.push([request.startNum, request.endNum - 1]);
    return { what: `${path} ${body.slice(0, 120)}`, blocks, txHashes: typeof request.value === 'string' ? [request.value] : [] };
  }

  protected async answer(path: string, body: string): Promise<string> {
    const behind = this.active.get('node-behind');
    const lag = this.active.get('logs-lag');
    const otherFork = this.otherForkSpent ? undefined : this.active.get('other-fork');
    if (!behind && !lag && !otherFork) return this.forwardText(path, body);
    // Requests run concurrently: a forged answer is made only while none has been yet.
    const forging = (variant: (typeof tronOtherForkVariants)[number]) => otherFork?.variant === variant && !this.otherForkSpent;
    const request = parseBody(body);
    const head = numberOf(await this.upstream<Block>('/wallet/getnowblock', {}));
    const visible = behind ? Math.max(0, head - behind.blocks) : head;
    const hide = (what: string, blocks: Array<[number, number]>, txHashes: string[] = []) =>
      this.record({ kind: 'node-behind', what: `${what} (node at ${visible}, real head ${head})`, blocks, txHashes, misleading: true });
    const indexedUpTo = lag ? head - lag.blocks : head;
    const lagged = (what: string, number: number, txHashes: string[]) =>
      this.record({ kind: 'logs-lag', what: `${what} (infos indexed up to ${indexedUpTo})`, blocks: [[number, number]], txHashes, misleading: true });

    let answer: unknown = JSON.parse(await this.forwardText(path, body));
    switch (path) {
      case '/wallet/getnowblock':
        if (behind && visible < head) {
          hide(`getnowblock answered block ${visible}`, [[visible + 1, head]]);
          answer = await this.upstream('/wallet/getblockbynum', { num: visible });
        }
        break;
      case '/wallet/getblockbynum': {
        if (!('blockID' in (answer as object))) break;
        const block = answer as Block;
        if (numberOf(block) > visible) {
          hide(`getblockbynum ${numberOf(block)} answered {}`, [[numberOf(block), numberOf(block)]]);
          answer = {};
        } else if (forging('block-id')) answer = this.withOtherBlockId(block);
        break;
      }
      case '/wallet/getblockbylimitnext': {
        let blocks = (answer as { block?: Block[] }).block ?? [];
        const past = blocks.filter((block) => numberOf(block) > visible);
        if (past.length > 0) {
          hide(`getblockbylimitnext without ${past.length} block(s) past the node's head`, [[numberOf(past[0]!), numberOf(past.at(-1)!)]]);
          blocks = blocks.filter((block) => numberOf(block) <= visible);
        }
        if (forging('block-id') && blocks.length > 0) blocks = [...blocks.slice(0, -1), this.withOtherBlockId(blocks.at(-1)!)];
        answer = { ...(answer as object), block: blocks };
        if (blocks.length === 0) answer = {};
        break;
      }
      case '/wallet/gettransactioninfobyblocknum': {
        const num = Number(request.num);
        const infos = Array.isArray(answer) ? (answer as Info[]) : [];
        const ids = infos.map((info) => String(info.id));
        if (num > visible) {
          if (infos.length > 0) hide(`gettransactioninfobyblocknum ${num} answered []`, [[num, num]], ids);
          answer = [];
        } else if (num > indexedUpTo) {
          if (infos.length > 0)
            lagged(`gettransactioninfobyblocknum ${num} answered [] instead of ${infos.length} info(s) (${ids.map(short).join(', ')})`, num, ids);
          answer = [];
        } else if (forging('phantom-info') && infos.length > 0) {
          answer = this.withPhantomInfo(num, infos);
        } else if (forging('foreign-info') && infos.length > 0 && num > 0) {
          this.forged(`the infos of block ${num} answered with block ${num - 1}'s`, [num, num], ids);
          answer = await this.upstream('/wallet/gettransactioninfobyblocknum', { num: num - 1 });
        }
        break;
      }
      case '/wallet/gettransactioninfobyid': {
        const info = answer as Info;
        if (typeof info.blockNumber !== 'number') break;
        if (info.blockNumber > visible) {
          hide(
            `gettransactioninfobyid ${short(String(info.id))} (block ${info.blockNumber}) answered {}`,
            [[info.blockNumber, info.blockNumber]],
            [String(info.id)],
          );
          answer = {};
        } else if (info.blockNumber > indexedUpTo) {
          lagged(`gettransactioninfobyid ${short(String(info.id))} (block ${info.blockNumber}) answered {}`, info.blockNumber, [String(info.id)]);
          answer = {};
        }
        break;
      }
      case '/wallet/gettransactionbyid': {
        if (!behind || !('txID' in (answer as object))) break;
        const info = await this.upstream<Info>('/wallet/gettransactioninfobyid', { value: request.value });
        if (typeof info.blockNumber === 'number' && info.blockNumber > visible) {
          hide(
            `gettransactionbyid ${short(String(request.value))} (block ${info.blockNumber}) answered {}`,
            [[info.blockNumber, info.blockNumber]],
            [String(request.value)],
          );
          answer = {};
        }
        break;
      }
    }
    return JSON.stringify(answer);
  }

  private withOtherBlockId(block: Block): Block {
    // java-tron's blockID: the number in its first 8 bytes, a header hash after.
    const blockID = block.blockID.slice(0, 16) + this.randomHex().slice(16);
    this.forged(
      `block ${numberOf(block)} answered with blockID ${short(blockID.slice(16))} instead of ${short(block.blockID.slice(16))}`,
      [numberOf(block), numberOf(block)],
      [],
    );
    return { ...block, blockID };
  }

  private withPhantomInfo(num: number, infos: Info[]): Info[] {
    const customers = this.context.customerAddresses();
    if (customers.length === 0) return infos;
    const to = this.prng.pick(customers);
    const amount = BigInt(this.prng.int(5, 500)) * 1_000_000n; // 5–500 USDT
    const usdt = tronAddressToHex(this.context.usdtAddress)!;
    const phantom = {
      id: this.randomHex(),
      blockNumber: num,
      blockTimeStamp: Date.now(),
      contractResult: [''],
      contract_address: usdt,
      receipt: { energy_usage_total: 29_631, net_fee: 345_000, result: 'SUCCESS' },
      log: [{ address: usdt.slice(2), topics: [TRANSFER_TOPIC, word('ab'.repeat(20)), word(tronAddressToHex(to)!.slice(2))], data: word(amount.toString(16)) }],
    };
    this.forged(`the infos of block ${num} answered with a phantom transfer of ${amount} USDT units to ${to} in tx ${phantom.id}`, [num, num], [phantom.id]);
    return [...infos, phantom];
  }

  private forged(what: string, [from, to]: [number, number], txHashes: string[]): void {
    this.otherForkSpent = true;
    this.record({ kind: 'other-fork', what, blocks: [[from, to]], txHashes, misleading: true });
  }

  private async upstream<T>(path: string, body: unknown): Promise<T> {
    return JSON.parse(await this.forwardText(path, JSON.stringify(body))) as T;
  }
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
