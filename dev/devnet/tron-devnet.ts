/**
 * A Tron devnet STAND-IN, not a Tron node: no java-tron can be downloaded here, so `npm run dev`
 * and the tests run this small HTTP server instead. It keeps a chain of blocks in memory (saved to
 * a file on stop) and answers the java-tron HTTP API calls inflow's Tron adapter makes, in the
 * shapes java-tron answers them (hex `41…` addresses, `txID`, `blockID`, `ret[0].contractRet`,
 * transaction infos with `receipt.result` and logs; checked against recorded java-tron responses
 * in test/fixtures/tron/), and the adapter is the production one. It does not reproduce everything
 * a real node does: it never lags or answers from another block, its blocks are small, and it
 * makes no TRC-10 transfers and no contract calls but its USDT's and its forwarder's (TRX sent on
 * by a contract, as an internal transaction in the call's info, as a node that keeps them writes it).
 *
 *   POST /wallet/getnowblock, /walletsolidity/getnowblock, /wallet/getblockbynum,
 *        /wallet/getblockbylimitnext, /wallet/gettransactioninfobyblocknum,
 *        /wallet/gettransactioninfobyid, /wallet/gettransactionbyid       as java-tron
 *   POST /devnet/transfer {to, amount, currency: TRX|USDT}                 (stand-in only) a transfer
 *        from the funded account in the next block; {fail: true} makes a TRC-20 call that reverts;
 *        {currency: TRX, viaContract: true} sends the TRX through the forwarder contract (a
 *        TriggerSmartContract with call_value, whose info's internal transaction pays `to`;
 *        with fail, the call reverts and that internal transaction is rejected)
 *   POST /devnet/mine {blocks}                                             (stand-in only)
 *   POST /devnet/reorg {depth, drop: [txID], requeue}                      (stand-in only) replaces the
 *        last `depth` blocks, leaving out the dropped transactions (back in the mempool with `requeue`)
 *   POST /devnet/resend {txID, fail, paid}                                 (stand-in only) puts a
 *        transaction a reorg dropped back in the mempool, to be mined again with the same txID, as it
 *        was, or (as another fork's state makes it run) failing (`fail`: a TRC-20 or forwarder call
 *        that reverts) or, a TRC-20 transfer, with a Transfer log paying `paid` (fewer units; the
 *        call's data unchanged): the chain-fault suite's re-mined, failed and pays-less fates
 *   GET  /devnet/info                                                      the funded account, USDT and forwarder contracts
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tronAddressFromAccountId, tronAddressToHex } from '../../src/chains/tron/address';
import { TRANSFER_TOPIC } from '../../src/chains/tron/tron.adapter';

/** java-tron treats a block as solidified 19 blocks under the head (2/3 of 27 witnesses + 1). */
const SOLIDIFICATION_DEPTH = 19;
/** The devnet's funded account: the account id of anvil's first test key, as a Tron address. */
export const TRON_FUNDED_ADDRESS = tronAddressFromAccountId(Buffer.from('f39fd6e51aad88f6f4ce6ab8827279cfffb92266', 'hex'));
/** The devnet's USDT contract, fixed so a restart finds it where it was. */
export const TRON_DEVNET_USDT = tronAddressFromAccountId(createHash('sha256').update('inflow tron devnet usdt').digest().subarray(0, 20));
/** The devnet's forwarder contract: it pays the TRX a call brings it on to the address the call names. */
export const TRON_DEVNET_FORWARDER = tronAddressFromAccountId(createHash('sha256').update('inflow tron devnet forwarder').digest().subarray(0, 20));
/** The forwarder's one function, `forward(address)`, as its call data's selector. */
const FORWARD_SELECTOR = '101e8952';

interface StoredTransaction {
  txID: string;
  kind: 'TRX' | 'USDT';
  from: string;
  to: string;
  amount: string;
  failed: boolean;
  /** TRX sent through the forwarder contract (an internal transaction), not by a TransferContract. */
  viaContract?: boolean;
  /** A TRC-20 transfer re-mined paying less (/devnet/resend): what its Transfer log pays instead of `amount`. */
  paid?: string;
}

interface StoredBlock {
  number: number;
  blockID: string;
  parentHash: string;
  timestamp: number;
  transactions: StoredTransaction[];
}

export interface RunningTronDevnet {
  rpcUrl: string;
  usdtAddress: string;
  fundedAddress: string;
  /** Blocks the chain has now (the head is length − 1). */
  head(): number;
  /** The forwarder contract that viaContract transfers go through. */
  forwarderAddress: string;
  /** A transfer from the funded account into the next block, as /devnet/transfer makes it; returns its txID. */
  transfer(to: string, amount: bigint, currency: 'TRX' | 'USDT', options?: { viaContract?: boolean; fail?: boolean }): string;
  mine(blocks?: number): void;
  stop(): Promise<void>;
}

export async function startTronDevnet(options: { port: number; blockTimeSeconds?: number; stateFile?: string }): Promise<RunningTronDevnet> {
  const saved = options.stateFile
    ? await readFile(options.stateFile, 'utf8').then(
        (text) => JSON.parse(text) as StoredBlock[],
        () => undefined,
      )
    : undefined;
  const chain: StoredBlock[] = saved ?? [makeBlock(0, '0'.repeat(64), [])];
  let pending: StoredTransaction[] = [];
  /** Transactions reorgs have dropped, by txID, for /devnet/resend. */
  const dropped = new Map<string, StoredTransaction>();

  const mine = (blocks = 1) => {
    for (let i = 0; i < blocks; i++) {
      const parent = chain.at(-1)!;
      chain.push(makeBlock(parent.number + 1, parent.blockID, pending));
      pending = [];
    }
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const send = (status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      let body: Record<string, unknown> = {};
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return send(400, { Error: 'class com.google.gson.JsonSyntaxException : malformed JSON' });
      }
      const path = new URL(request.url ?? '/', 'http://devnet').pathname;
      const byNumber = (num: unknown) => (typeof num === 'number' ? chain[num] : undefined);
      switch (path) {
        case '/wallet/getnowblock':
          return send(200, blockJson(chain.at(-1)!));
        case '/walletsolidity/getnowblock':
          return send(200, blockJson(chain[Math.max(0, chain.length - 1 - SOLIDIFICATION_DEPTH)]!));
        case '/wallet/getblockbynum': {
          const block = byNumber(body.num);
          return send(200, block ? blockJson(block) : {});
        }
        case '/wallet/getblockbylimitnext': {
          const start = Number(body.startNum);
          const end = Math.min(Number(body.endNum), start + 100);
          return send(200, { block: chain.slice(start, end).map(blockJson) });
        }
        case '/wallet/gettransactioninfobyblocknum': {
          const block = byNumber(body.num);
          return send(200, block ? block.transactions.map((transaction) => infoJson(block, transaction)) : []);
        }
        case '/wallet/gettransactioninfobyid': {
          for (const block of chain) {
            const transaction = block.transactions.find((candidate) => candidate.txID === body.value);
            if (transaction) return send(200, infoJson(block, transaction));
          }
          return send(200, {});
        }
        case '/wallet/gettransactionbyid': {
          for (const block of chain) {
            const transaction = block.transactions.find((candidate) => candidate.txID === body.value);
            if (transaction) return send(200, transactionJson(transaction));
          }
          return send(200, {});
        }
        case '/devnet/transfer': {
          const to = String(body.to ?? '');
          const currency = String(body.currency ?? 'USDT').toUpperCase();
          if (!tronAddressToHex(to)) return send(400, { Error: `"${to}" is not a Tron address` });
          if (currency !== 'TRX' && currency !== 'USDT') return send(400, { Error: 'currency must be TRX or USDT' });
          if (!/^\d+$/.test(String(body.amount))) return send(400, { Error: 'amount must be whole base units (sun, or USDT with 6 decimals)' });
          if (body.viaContract === true && currency !== 'TRX') return send(400, { Error: 'viaContract sends TRX only' });
          const transaction = storedTransfer(to, String(body.amount), currency, { viaContract: body.viaContract === true, fail: body.fail === true });
          pending.push(transaction);
          return send(200, { result: true, txid: transaction.txID });
        }
        case '/devnet/mine':
          mine(Number(body.blocks ?? 1));
          return send(200, { head: chain.length - 1 });
        case '/devnet/reorg': {
          const depth = Number(body.depth ?? 1);
          const drop = new Set((body.drop as string[] | undefined) ?? []);
          const replaced = chain.splice(chain.length - depth, depth);
          for (const transaction of replaced.flatMap((block) => block.transactions)) if (drop.has(transaction.txID)) dropped.set(transaction.txID, transaction);
          // As on a real chain, an orphaned block's transactions may go back to the mempool, to be mined again with the same id.
          if (body.requeue === true) pending.push(...replaced.flatMap((block) => block.transactions.filter((transaction) => drop.has(transaction.txID))));
          for (const block of replaced) {
            const parent = chain.at(-1)!;
            chain.push(
              makeBlock(
                block.number,
                parent.blockID,
                block.transactions.filter((transaction) => !drop.has(transaction.txID)),
              ),
            );
          }
          return send(200, { head: chain.length - 1 });
        }
        case '/devnet/resend': {
          const transaction = dropped.get(String(body.value ?? body.txID ?? ''));
          if (!transaction) return send(400, { Error: 'no transaction of that txID was dropped by a reorg' });
          if (chain.some((block) => block.transactions.some((each) => each.txID === transaction.txID)) || pending.includes(transaction)) {
            return send(400, { Error: 'that transaction is on the chain or in the mempool' });
          }
          if (body.paid !== undefined) {
            const paid = String(body.paid);
            if (transaction.kind !== 'USDT' || !/^\d+$/.test(paid) || BigInt(paid) > BigInt(transaction.amount))
              return send(400, { Error: 'paid: whole units, at most the amount, of a TRC-20 transfer' });
          }
          const failed = body.fail === true;
          const again: StoredTransaction = { ...transaction, failed, paid: body.paid === undefined || failed ? undefined : String(body.paid) };
          dropped.delete(transaction.txID);
          pending.push(again);
          return send(200, { result: true, txid: again.txID });
        }
        case '/devnet/info':
          return send(200, {
            fundedAddress: TRON_FUNDED_ADDRESS,
            usdtAddress: TRON_DEVNET_USDT,
            forwarderAddress: TRON_DEVNET_FORWARDER,
            head: chain.length - 1,
          });
        default:
          // java-tron answers an unknown path with its servlet container's HTML page.
          response.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><body><h2>404 Not Found</h2></body></html>');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const timer = options.blockTimeSeconds ? setInterval(() => mine(), options.blockTimeSeconds * 1000) : undefined;
  return {
    rpcUrl: `http://127.0.0.1:${options.port}`,
    usdtAddress: TRON_DEVNET_USDT,
    fundedAddress: TRON_FUNDED_ADDRESS,
    forwarderAddress: TRON_DEVNET_FORWARDER,
    head: () => chain.length - 1,
    transfer: (to, amount, currency, options = {}) => {
      const transaction = storedTransfer(to, amount.toString(), currency, options);
      pending.push(transaction);
      return transaction.txID;
    },
    mine,
    stop: async () => {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.stateFile) await writeFile(options.stateFile, JSON.stringify(chain));
    },
  };
}

function storedTransfer(to: string, amount: string, kind: 'TRX' | 'USDT', options: { viaContract?: boolean; fail?: boolean }): StoredTransaction {
  return {
    txID: randomBytes(32).toString('hex'),
    kind,
    from: TRON_FUNDED_ADDRESS,
    to,
    amount,
    failed: options.fail === true,
    ...(options.viaContract ? { viaContract: true } : {}),
  };
}

function makeBlock(number: number, parentHash: string, transactions: StoredTransaction[]): StoredBlock {
  const digest = createHash('sha256')
    .update(`${parentHash}:${number}:${transactions.map((transaction) => transaction.txID).join(',')}:${randomBytes(8).toString('hex')}`)
    .digest('hex');
  // As java-tron builds a block id: the block number in the first 8 bytes, a header hash after.
  return { number, blockID: number.toString(16).padStart(16, '0') + digest.slice(16), parentHash, timestamp: Date.now(), transactions };
}

const hex41 = (address: string) => tronAddressToHex(address)!;
const word = (hex: string) => hex.padStart(64, '0');

/** A block as java-tron's getblockbynum writes it (without `visible`): the `transactions` key is left out when there are none. */
function blockJson(block: StoredBlock) {
  return {
    blockID: block.blockID,
    block_header: {
      raw_data: {
        // java-tron leaves a zero number out, as it leaves out every zero field.
        ...(block.number > 0 ? { number: block.number } : {}),
        txTrieRoot: '0'.repeat(64),
        witness_address: '41928c9af0651632157ef27a2cf17ca72c575a4d21',
        parentHash: block.parentHash,
        version: 30,
        timestamp: block.timestamp,
      },
      witness_signature: '00'.repeat(65),
    },
    ...(block.transactions.length > 0 ? { transactions: block.transactions.map(transactionJson) } : {}),
  };
}

function transactionJson(transaction: StoredTransaction) {
  const contract = transaction.viaContract
    ? {
        parameter: {
          value: {
            data: `${FORWARD_SELECTOR}${word(hex41(transaction.to).slice(2))}`,
            owner_address: hex41(transaction.from),
            contract_address: hex41(TRON_DEVNET_FORWARDER),
            call_value: Number(transaction.amount),
          },
          type_url: 'type.googleapis.com/protocol.TriggerSmartContract',
        },
        type: 'TriggerSmartContract',
      }
    : transaction.kind === 'TRX'
      ? {
          parameter: {
            value: { amount: Number(transaction.amount), owner_address: hex41(transaction.from), to_address: hex41(transaction.to) },
            type_url: 'type.googleapis.com/protocol.TransferContract',
          },
          type: 'TransferContract',
        }
      : {
          parameter: {
            value: {
              data: `a9059cbb${word(hex41(transaction.to).slice(2))}${word(BigInt(transaction.amount).toString(16))}`,
              owner_address: hex41(transaction.from),
              contract_address: hex41(TRON_DEVNET_USDT),
            },
            type_url: 'type.googleapis.com/protocol.TriggerSmartContract',
          },
          type: 'TriggerSmartContract',
        };
  return {
    ret: [{ contractRet: transaction.failed ? 'REVERT' : 'SUCCESS' }],
    signature: ['00'.repeat(65)],
    txID: transaction.txID,
    raw_data: { contract: [contract], ref_block_bytes: '0000', ref_block_hash: '0000000000000000', expiration: 0, timestamp: 0 },
    raw_data_hex: '',
  };
}

/** A transaction's info as gettransactioninfobyblocknum / byid write it. */
function infoJson(block: StoredBlock, transaction: StoredTransaction) {
  const base = { id: transaction.txID, blockNumber: block.number, blockTimeStamp: block.timestamp, contractResult: [''] };
  if (transaction.viaContract) return forwarderInfoJson(base, transaction);
  if (transaction.kind === 'TRX') return { ...base, receipt: { net_usage: 268 } };
  if (transaction.failed) {
    return {
      ...base,
      fee: 1_000_000,
      contract_address: hex41(TRON_DEVNET_USDT),
      receipt: { energy_usage_total: 130_285, net_usage: 345, result: 'REVERT' },
      result: 'FAILED',
      resMessage: '5245564552540000',
    };
  }
  return {
    ...base,
    fee: 345_000,
    contract_address: hex41(TRON_DEVNET_USDT),
    receipt: { energy_usage_total: 29_631, net_fee: 345_000, result: 'SUCCESS' },
    log: [
      {
        address: hex41(TRON_DEVNET_USDT).slice(2),
        topics: [TRANSFER_TOPIC, word(hex41(transaction.from).slice(2)), word(hex41(transaction.to).slice(2))],
        data: word(BigInt(transaction.paid ?? transaction.amount).toString(16)),
      },
    ],
  };
}

/**
 * The info of a call to the forwarder: the internal transaction that paid the TRX on (its `note`
 * is "call" in hex, its TRX in `callValueInfo[0].callValue`), rejected when the call reverted, as
 * java-tron writes it with `vm.saveInternalTx` on (TransactionUtil.buildInternalTransaction).
 */
function forwarderInfoJson(base: { id: string }, transaction: StoredTransaction) {
  const internal = {
    hash: createHash('sha256').update(`${transaction.txID}:0`).digest('hex'),
    caller_address: hex41(TRON_DEVNET_FORWARDER),
    transferTo_address: hex41(transaction.to),
    callValueInfo: [{ callValue: Number(transaction.amount) }],
    note: Buffer.from('call').toString('hex'),
    ...(transaction.failed ? { rejected: true } : {}),
  };
  const called = { ...base, contract_address: hex41(TRON_DEVNET_FORWARDER), internal_transactions: [internal] };
  if (transaction.failed) {
    const receipt = { energy_fee: 750_000, energy_usage_total: 7_500, net_usage: 313, result: 'REVERT' };
    return { ...called, fee: receipt.energy_fee, receipt, result: 'FAILED', resMessage: '5245564552540000' };
  }
  const receipt = { energy_fee: 783_000, energy_usage_total: 7_830, net_usage: 313, result: 'SUCCESS' };
  return { ...called, fee: receipt.energy_fee, receipt };
}
