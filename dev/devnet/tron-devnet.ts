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
 * It keeps accounts (tron-state.ts): TRX and USDT balances, Stake 2.0 stakes and delegations, the
 * bandwidth and energy each has used; the funded account starts with a billion of each and its key
 * is anvil's first (TRON_FUNDED_PRIVATE_KEY). The state is the replay of the blocks, so reorgs,
 * resends and a restart keep it consistent. Signed transactions (src/chains/tron/transaction.ts)
 * are taken as java-tron takes them: broadcasttransaction refuses, in java-tron's order and
 * shapes ({code, txid, message: hex}), a bad or wrong signer's signature (SIGERROR), a repeat
 * (DUP_TRANSACTION_ERROR), an expired one (TRANSACTION_EXPIRATION_ERROR), one whose reference
 * block is not among the last 65536 (TAPOS_ERROR), one its sender cannot pay bandwidth for
 * (BANDWITH_ERROR) and one its contract refuses (CONTRACT_VALIDATE_ERROR, java-tron's messages).
 * Bandwidth comes from stake, then the free 600 bytes a day, else is burned at 1000 sun a byte;
 * a new account costs 1.1 TRX; a USDT call uses about 130k energy to a new holder and 65k to a
 * holder, from stake first, the rest burned at getEnergyFee (210 sun), and fails OUT_OF_ENERGY
 * beyond what fee_limit and the balance allow. A mined transaction's info carries `fee`,
 * `receipt.energy_usage` / `energy_fee` / `energy_usage_total` / `net_usage` / `net_fee`.
 *
 * Not modelled: multi-signature permissions, TRC-10, UnfreezeBalanceV2 / withdrawals / votes, the
 * network's total weights (fixed: a staked TRX gives 10 energy and 1 bandwidth a day), dynamic
 * energy (energy_penalty), usage handed back with an undelegation, `visible` in answers (addresses
 * are always hex), and /devnet/transfer's transactions are not signed (random txIDs, fixed fees
 * paid by the funded account).
 *
 *   POST /wallet/createtransaction, /wallet/triggersmartcontract, /wallet/triggerconstantcontract,
 *        /wallet/freezebalancev2, /wallet/delegateresource, /wallet/undelegateresource  build (as java-tron)
 *   POST /wallet/broadcasttransaction, /wallet/getaccount, /wallet/getaccountresource,
 *        /wallet/getcandelegatedmaxsize,
 *        /wallet/getchainparameters                                         as java-tron
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
import { id as keccakId } from 'ethers';
import { tronAddressFromAccountId, tronAddressToHex } from '../../src/chains/tron/address';
import {
  decodeRawData,
  encodeRawData,
  encodeTransaction,
  rawDataToJson,
  readSignedTransaction,
  recoverSigner,
  transactionId,
  type TronContract,
  type TronRawData,
  type TronResource,
} from '../../src/chains/tron/transaction';
import { TRANSFER_TOPIC } from '../../src/chains/tron/tron.adapter';
import {
  applyReceipt,
  base58,
  cloneState,
  CREATE_ACCOUNT_FEE,
  CREATE_NEW_ACCOUNT_FEE_IN_SYSTEM_CONTRACT,
  ENERGY_FEE,
  energyLimit,
  execute,
  FREE_NET_LIMIT,
  invalid,
  MAX_FEE_LIMIT,
  netLimit,
  newAccount,
  recovered,
  Refusal,
  activeAccount,
  stakeInUse,
  TOTAL_ENERGY_LIMIT,
  TOTAL_ENERGY_WEIGHT,
  TOTAL_NET_LIMIT,
  TOTAL_NET_WEIGHT,
  TRANSACTION_FEE,
  usdtCall,
  type Account,
  type ChainState,
  type Receipt,
} from './tron-state';

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
/** The funded account's key: anvil's first test key (public), so tests can sign as the funded account. */
export const TRON_FUNDED_PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** What the funded account holds at genesis: a billion TRX and a billion USDT. */
const FUNDED_TRX = 1_000_000_000n * 1_000_000n;
const FUNDED_USDT = 1_000_000_000n * 1_000_000n;
/** java-tron keeps the last 65536 blocks for TaPoS (RecentBlockStore). */
const TAPOS_BLOCKS = 65_536;
/** java-tron refuses an expiration more than a day past the head (MAXIMUM_TIME_UNTIL_EXPIRATION); it sets 60 s past the head when it builds one. */
const MAX_EXPIRATION_MS = 24 * 3600 * 1000;
const DEFAULT_EXPIRATION_MS = 60_000;
/** The bytes java-tron adds to a transaction's size for its result (Constant.MAX_RESULT_SIZE_IN_TX). */
const RESULT_BYTES = 64;

interface StoredTransaction {
  txID: string;
  /** TRX, USDT: a transfer (a TransferContract, or a USDT transfer() call); the rest Stake 2.0 contracts, signed transactions only. */
  kind: 'TRX' | 'USDT' | 'FREEZE' | 'DELEGATE' | 'UNDELEGATE';
  from: string;
  to: string;
  amount: string;
  failed: boolean;
  /** TRX sent through the forwarder contract (an internal transaction), not by a TransferContract. */
  viaContract?: boolean;
  /** A TRC-20 transfer re-mined paying less (/devnet/resend): what its Transfer log pays instead of `amount`. */
  paid?: string;
  /** A transaction broadcast signed (/wallet/broadcasttransaction), as it was signed. /devnet/transfer's have none. */
  signed?: { rawDataHex: string; signature: string };
  /** A signed transaction's cost and outcome, computed when it was mined. */
  receipt?: Receipt;
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
  /** Moves the stand-in's clock (block timestamps, expirations, resource recovery) forward: minutes of Tron in a test without waiting. */
  advanceClock(ms: number): void;
  stop(): Promise<void>;
}

export async function startTronDevnet(options: { port: number; blockTimeSeconds?: number; stateFile?: string }): Promise<RunningTronDevnet> {
  const saved = options.stateFile
    ? await readFile(options.stateFile, 'utf8').then(
        (text) => JSON.parse(text) as StoredBlock[],
        () => undefined,
      )
    : undefined;
  /** The stand-in's clock: the system's, moved forward by advanceClock. */
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const chain: StoredBlock[] = saved ?? [makeBlock(0, '0'.repeat(64), [])];
  let pending: StoredTransaction[] = [];
  /** Transactions reorgs have dropped, by txID, for /devnet/resend. */
  const dropped = new Map<string, StoredTransaction>();
  /** The accounts as the chain's blocks leave them (tron-state.ts), and the txIDs on the chain. */
  let state = replay(chain);
  let mined = new Set(chain.flatMap((block) => block.transactions.map((transaction) => transaction.txID)));

  const mine = (blocks = 1) => {
    for (let i = 0; i < blocks; i++) {
      const parent = chain.at(-1)!;
      const timestamp = now();
      // As a block producer does: each pending transaction runs against the state the ones before it left; one java-tron would now refuse (expired, can no longer pay) is left out.
      const included = pending.filter((transaction) => {
        try {
          run(state, transaction, timestamp);
          return true;
        } catch (error) {
          if (error instanceof Refusal) return false;
          throw error;
        }
      });
      chain.push(makeBlock(parent.number + 1, parent.blockID, included, timestamp));
      for (const transaction of included) mined.add(transaction.txID);
      pending = [];
    }
  };

  /** The state a transaction broadcast now is checked against: the head's, with the mempool run on it. */
  const pendingState = (now: number) => {
    const next = cloneState(state);
    for (const transaction of pending) {
      try {
        run(next, transaction, now, { dryRun: true });
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
      }
    }
    return next;
  };

  /** A transaction built by /wallet/createtransaction and the like: referencing the head, expiring 60 s after it, as java-tron builds one. */
  const build = (contract: TronContract, feeLimit = 0) => {
    const head = chain.at(-1)!;
    const raw: TronRawData = {
      contract,
      ref_block_bytes: (head.number & 0xffff).toString(16).padStart(4, '0'),
      ref_block_hash: head.blockID.slice(16, 32),
      expiration: head.timestamp + DEFAULT_EXPIRATION_MS,
      timestamp: now(),
      fee_limit: feeLimit,
    };
    const bytes = encodeRawData(raw);
    return { visible: false, txID: transactionId(bytes), raw_data: rawDataToJson(raw), raw_data_hex: Buffer.from(bytes).toString('hex') };
  };

  /** /wallet/broadcasttransaction's checks, in java-tron's order (Wallet.broadcastTransaction, Manager.pushTransaction); returns the transaction to queue. */
  const admit = (body: Record<string, unknown>): StoredTransaction => {
    const { txID, raw, rawDataHex, signature } = readSignedTransaction(body);
    if (signature.length !== 130) throw new Refusal('SIGERROR', `Validate signature error: Signature size is ${signature.length / 2}`);
    if (mined.has(txID) || pending.some((transaction) => transaction.txID === txID)) throw new Refusal('DUP_TRANSACTION_ERROR', 'Dup transaction.');
    const head = chain.at(-1)!;
    if (raw.expiration < head.timestamp + 3_000 || raw.expiration > head.timestamp + MAX_EXPIRATION_MS)
      throw new Refusal('TRANSACTION_EXPIRATION_ERROR', 'Transaction expired');
    let signer: string;
    try {
      signer = recoverSigner(txID, signature);
    } catch (error) {
      throw new Refusal('SIGERROR', `Validate signature error: ${(error as Error).message}`);
    }
    if (signer !== base58(raw.contract.owner_address))
      throw new Refusal('SIGERROR', `Validate signature error: ${signature} is signed by ${signer} but it is not contained of permission.`);
    const refNumber = parseInt(raw.ref_block_bytes, 16);
    const tapos = chain.slice(-TAPOS_BLOCKS).some((block) => (block.number & 0xffff) === refNumber && block.blockID.slice(16, 32) === raw.ref_block_hash);
    if (!tapos) throw new Refusal('TAPOS_ERROR', 'Tapos check error.');
    const transaction = storedSigned(txID, raw, rawDataHex, signature);
    run(pendingState(now()), transaction, now(), { dryRun: true });
    return transaction;
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
        case '/wallet/getchainparameters':
          return send(200, {
            chainParameter: [
              { key: 'getMaintenanceTimeInterval', value: 21_600_000 },
              { key: 'getCreateAccountFee', value: CREATE_ACCOUNT_FEE },
              { key: 'getTransactionFee', value: TRANSACTION_FEE },
              { key: 'getCreateNewAccountFeeInSystemContract', value: CREATE_NEW_ACCOUNT_FEE_IN_SYSTEM_CONTRACT },
              { key: 'getFreeNetLimit', value: FREE_NET_LIMIT },
              { key: 'getTotalEnergyLimit', value: TOTAL_ENERGY_LIMIT },
              { key: 'getEnergyFee', value: ENERGY_FEE },
              { key: 'getMaxFeeLimit', value: MAX_FEE_LIMIT },
              { key: 'getAllowTvmTransferTrc10', value: 1 },
              { key: 'getUnfreezeDelayDays', value: 14 },
            ],
          });
        case '/wallet/getaccount': {
          const address = hexOf(body.address);
          const account = address ? activeAccount(state, address) : undefined;
          return send(200, account && address ? accountJson(address, account) : {});
        }
        case '/wallet/getaccountresource': {
          const address = hexOf(body.address);
          const account = address ? activeAccount(state, address) : undefined;
          return send(200, account ? accountResourceJson(account, now()) : {});
        }
        case '/wallet/getcandelegatedmaxsize': {
          // type 0 bandwidth, 1 energy: the stake not delegated, less what the account's own use holds back (as DelegateResource checks).
          const address = hexOf(body.owner_address);
          const account = address ? activeAccount(state, address) : undefined;
          const resource = body.type === 1 ? 'ENERGY' : 'BANDWIDTH';
          const size = account ? account.frozen[resource] - stakeInUse(account, resource, now()) : 0n;
          return send(200, size > 0n ? { max_size: Number(size) } : {});
        }
        case '/wallet/createtransaction':
        case '/wallet/freezebalancev2':
        case '/wallet/delegateresource':
        case '/wallet/undelegateresource':
        case '/wallet/triggersmartcontract':
        case '/wallet/triggerconstantcontract': {
          let contract: TronContract;
          try {
            contract = contractOf(path, body);
          } catch (error) {
            return send(200, { Error: `class java.lang.IllegalArgumentException : ${(error as Error).message}` });
          }
          const feeLimit = Number(body.fee_limit ?? 0);
          const at = now();
          const working = pendingState(at);
          if (path === '/wallet/triggerconstantcontract') {
            // A call run without a transaction (VMActuator in constant mode): what it would use and answer.
            const call = contract.type === 'TriggerSmartContract' ? constantCall(working, contract) : undefined;
            if (!call) return send(200, { result: { code: 'CONTRACT_VALIDATE_ERROR', message: hexText('No contract or not a smart contract') } });
            return send(200, { result: { result: true }, energy_used: call.energy, constant_result: [call.result], transaction: build(contract, feeLimit) });
          }
          try {
            // java-tron runs the actuator's validate() when it builds a transaction; bandwidth is charged only when it is pushed.
            validateOnly(working, contract, feeLimit, at);
          } catch (error) {
            if (!(error instanceof Refusal)) throw error;
            if (path === '/wallet/triggersmartcontract') return send(200, { result: { code: 'CONTRACT_VALIDATE_ERROR', message: hexText(error.message) } });
            return send(200, { Error: `class org.tron.core.exception.ContractValidateException : ${error.message}` });
          }
          const transaction = build(contract, contract.type === 'TriggerSmartContract' ? feeLimit : 0);
          return send(200, path === '/wallet/triggersmartcontract' ? { result: { result: true }, transaction } : transaction);
        }
        case '/wallet/broadcasttransaction': {
          let transaction: StoredTransaction;
          try {
            transaction = admit(body);
          } catch (error) {
            const txid = typeof body.txID === 'string' ? body.txID : undefined;
            if (error instanceof Refusal)
              return send(200, {
                code: error.code,
                ...(txid ? { txid } : {}),
                message: hexText(error.code === 'CONTRACT_VALIDATE_ERROR' ? `Contract validate error : ${error.message}` : error.message),
              });
            return send(200, { Error: `class org.tron.core.exception.BadItemException : ${(error as Error).message}` });
          }
          pending.push(transaction);
          return send(200, { result: true, txid: transaction.txID });
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
          state = replay(chain);
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
                block.timestamp,
              ),
            );
            for (const transaction of chain.at(-1)!.transactions) replayTransaction(state, transaction, block.timestamp);
          }
          mined = new Set(chain.flatMap((block) => block.transactions.map((transaction) => transaction.txID)));
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
    advanceClock: (ms) => {
      clockOffset += ms;
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.stateFile) await writeFile(options.stateFile, JSON.stringify(chain));
    },
  };
}

/** An address given in hex (41…) or base58, as java-tron's requests take it with or without `visible`; undefined when it is neither. */
function hexOf(value: unknown): string | undefined {
  const text = String(value ?? '');
  if (/^41[0-9a-fA-F]{40}$/.test(text)) return text.toLowerCase();
  return tronAddressToHex(text);
}

const hexText = (text: string) => Buffer.from(text, 'utf8').toString('hex');

/** The contract a build request asks for (the servlets' JSON bodies), before validation. */
function contractOf(path: string, body: Record<string, unknown>): TronContract {
  const address = (key: string) => {
    const hex = hexOf(body[key]);
    if (!hex) throw new Error(`${key} "${String(body[key] ?? '')}" is not a Tron address`);
    return hex;
  };
  const sun = (key: string) => {
    const value = body[key] ?? 0;
    if (!/^\d+$/.test(String(value))) throw new Error(`${key} must be a whole number of sun`);
    return BigInt(String(value));
  };
  const resource = (): TronResource => {
    const value = body.resource ?? 'BANDWIDTH';
    if (value !== 'BANDWIDTH' && value !== 'ENERGY') throw new Error('resource must be BANDWIDTH or ENERGY');
    return value;
  };
  const owner_address = address('owner_address');
  switch (path) {
    case '/wallet/createtransaction':
      return { type: 'TransferContract', owner_address, to_address: address('to_address'), amount: sun('amount') };
    case '/wallet/freezebalancev2':
      return { type: 'FreezeBalanceV2Contract', owner_address, frozen_balance: sun('frozen_balance'), resource: resource() };
    case '/wallet/delegateresource':
      return {
        type: 'DelegateResourceContract',
        owner_address,
        resource: resource(),
        balance: sun('balance'),
        receiver_address: address('receiver_address'),
        lock: body.lock === true,
        lock_period: Number(sun('lock_period')),
      };
    case '/wallet/undelegateresource':
      return {
        type: 'UnDelegateResourceContract',
        owner_address,
        resource: resource(),
        balance: sun('balance'),
        receiver_address: address('receiver_address'),
      };
    default: {
      // triggersmartcontract / triggerconstantcontract: `data`, or `function_selector` and `parameter` (TriggerSmartContractServlet).
      const selector = typeof body.function_selector === 'string' ? keccakId(body.function_selector.replace(/\s/g, '')).slice(2, 10) : '';
      const data = typeof body.data === 'string' ? body.data : selector + String(body.parameter ?? '');
      if (!/^([0-9a-fA-F]{2})*$/.test(data)) throw new Error('data/parameter must be hex');
      return {
        type: 'TriggerSmartContract',
        owner_address,
        contract_address: address('contract_address'),
        call_value: sun('call_value'),
        data: data.toLowerCase(),
      };
    }
  }
}

/** A call the devnet's USDT answers without a transaction: balanceOf(address), or transfer()'s energy. */
function constantCall(state: ChainState, contract: Extract<TronContract, { type: 'TriggerSmartContract' }>): { energy: number; result: string } | undefined {
  if (contract.contract_address !== hex41(TRON_DEVNET_USDT)) return undefined;
  if (/^70a08231[0-9a-f]{64}$/.test(contract.data)) {
    const holder = `41${contract.data.slice(8 + 24)}`;
    return { energy: 544, result: word((state.accounts.get(holder)?.usdt ?? 0n).toString(16)) };
  }
  const call = usdtCall(state, contract.owner_address, contract.data, contract.call_value);
  return { energy: call.energy, result: call.transfer ? word('1') : '' };
}

/** The actuator's validate() alone, on a copy: what createtransaction and the like refuse. */
function validateOnly(state: ChainState, contract: TronContract, feeLimit: number, now: number): void {
  const copy = cloneState(state);
  const owner = activeAccount(copy, contract.owner_address);
  if (!owner)
    throw invalid(contract.type === 'TransferContract' ? 'Validate TransferContract error, no OwnerAccount.' : `Account[${contract.owner_address}] not exists`);
  execute(copy, contract, feeLimit, 0, now, hex41(TRON_DEVNET_USDT), {}, { chargeBandwidth: false });
}

/** The accounts at genesis: the funded account with its TRX and USDT, the two contracts. */
function genesis(): ChainState {
  const accounts = new Map([[hex41(TRON_FUNDED_ADDRESS), { ...newAccount(0, FUNDED_TRX), usdt: FUNDED_USDT }]]);
  accounts.set(hex41(TRON_DEVNET_USDT), newAccount(0));
  accounts.set(hex41(TRON_DEVNET_FORWARDER), newAccount(0));
  return { accounts, delegations: new Map() };
}

/** The state the chain's blocks leave, from genesis. */
function replay(chain: StoredBlock[]): ChainState {
  const state = genesis();
  for (const block of chain) for (const transaction of block.transactions) replayTransaction(state, transaction, block.timestamp);
  return state;
}

/** A mined transaction's effects, as recorded. */
function replayTransaction(state: ChainState, transaction: StoredTransaction, blockTime: number): void {
  if (transaction.signed && transaction.receipt) applyReceipt(state, decodeRawData(transaction.signed.rawDataHex).contract, transaction.receipt, blockTime);
  else if (!transaction.signed) applyDevnetTransfer(state, transaction, blockTime);
}

/**
 * Runs a transaction being mined (or, with dryRun, checked): a signed one as java-tron would, its
 * receipt recorded; a /devnet/transfer one by its fixed effects.
 */
function run(state: ChainState, transaction: StoredTransaction, now: number, options: { dryRun?: boolean } = {}): void {
  if (!transaction.signed) return applyDevnetTransfer(state, transaction, now);
  const raw = decodeRawData(transaction.signed.rawDataHex);
  if (!options.dryRun && raw.expiration < now) throw new Refusal('TRANSACTION_EXPIRATION_ERROR', 'Transaction expired');
  const bytes = encodeTransaction(transaction.signed.rawDataHex, [transaction.signed.signature]).length + RESULT_BYTES;
  const receipt = execute(state, raw.contract, raw.fee_limit, bytes, now, hex41(TRON_DEVNET_USDT), { fail: transaction.failed, paid: transaction.paid });
  if (!options.dryRun) transaction.receipt = receipt;
}

/** The fees /devnet/transfer's transactions' infos show (infoJson), paid by the funded account. */
function devnetTransferFee(transaction: StoredTransaction): bigint {
  if (transaction.viaContract) return transaction.failed ? 750_000n : 783_000n;
  if (transaction.kind === 'TRX') return 0n;
  return transaction.failed ? 1_000_000n : 345_000n;
}

/** A /devnet/transfer transaction's effects: the funded account pays the amount (unless it failed) and the fee its info shows. */
function applyDevnetTransfer(state: ChainState, transaction: StoredTransaction, now: number): void {
  const from = state.accounts.get(hex41(transaction.from))!;
  const toHex = hex41(transaction.to);
  let to = state.accounts.get(toHex);
  from.trx -= devnetTransferFee(transaction);
  if (transaction.failed) return;
  // TRX creates (activates) the receiver's account; USDT alone does not.
  if (!to) state.accounts.set(toHex, (to = newAccount(now, 0n, transaction.kind === 'TRX')));
  else if (transaction.kind === 'TRX' && !to.active) Object.assign(to, { active: true, createTime: now });
  const amount = BigInt(transaction.kind === 'USDT' ? (transaction.paid ?? transaction.amount) : transaction.amount);
  if (transaction.kind === 'USDT') {
    from.usdt -= amount;
    to.usdt += amount;
  } else {
    from.trx -= amount;
    to.trx += amount;
  }
}

function storedSigned(txID: string, raw: TronRawData, rawDataHex: string, signature: string): StoredTransaction {
  const contract = raw.contract;
  const owner = base58(contract.owner_address);
  const common = { txID, from: owner, failed: false, signed: { rawDataHex, signature } };
  switch (contract.type) {
    case 'TransferContract':
      return { ...common, kind: 'TRX', to: base58(contract.to_address), amount: contract.amount.toString() };
    case 'TriggerSmartContract': {
      const data = contract.data;
      const to = /^a9059cbb[0-9a-f]{128}$/.test(data) ? base58(`41${data.slice(32, 72)}`) : base58(contract.contract_address);
      const amount = /^a9059cbb[0-9a-f]{128}$/.test(data) ? BigInt(`0x${data.slice(72)}`).toString() : '0';
      return { ...common, kind: 'USDT', to, amount };
    }
    case 'FreezeBalanceV2Contract':
      return { ...common, kind: 'FREEZE', to: owner, amount: contract.frozen_balance.toString() };
    case 'DelegateResourceContract':
      return { ...common, kind: 'DELEGATE', to: base58(contract.receiver_address), amount: contract.balance.toString() };
    case 'UnDelegateResourceContract':
      return { ...common, kind: 'UNDELEGATE', to: base58(contract.receiver_address), amount: contract.balance.toString() };
  }
}

/** An account as /wallet/getaccount prints it (AccountCapsule through JsonFormat: zero fields left out). */
function accountJson(address: string, account: Account) {
  const set = <T extends Record<string, unknown>>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, item]) => item !== 0 && item !== 0n && item !== undefined));
  const num = (value: bigint) => Number(value);
  return {
    address,
    ...set({
      balance: num(account.trx),
      create_time: account.createTime,
      net_usage: account.netUsage,
      latest_consume_time: account.netTime,
      free_net_usage: account.freeNetUsage,
      latest_consume_free_time: account.freeNetTime,
      delegated_frozenV2_balance_for_bandwidth: num(account.delegatedOut.BANDWIDTH),
      acquired_delegated_frozenV2_balance_for_bandwidth: num(account.acquired.BANDWIDTH),
    }),
    account_resource: set({
      energy_usage: account.energyUsage,
      latest_consume_time_for_energy: account.energyTime,
      delegated_frozenV2_balance_for_energy: num(account.delegatedOut.ENERGY),
      acquired_delegated_frozenV2_balance_for_energy: num(account.acquired.ENERGY),
    }),
    frozenV2: [set({ amount: num(account.frozen.BANDWIDTH) }), { type: 'ENERGY', ...set({ amount: num(account.frozen.ENERGY) }) }, { type: 'TRON_POWER' }],
  };
}

/** /wallet/getaccountresource: what the account may use now (usage after recovery), as java-tron prints it (zeros left out). */
function accountResourceJson(account: Account, now: number) {
  const values = {
    freeNetUsed: recovered(account.freeNetUsage, account.freeNetTime, now),
    freeNetLimit: FREE_NET_LIMIT,
    NetUsed: recovered(account.netUsage, account.netTime, now),
    NetLimit: netLimit(account),
    TotalNetLimit: TOTAL_NET_LIMIT,
    TotalNetWeight: TOTAL_NET_WEIGHT,
    EnergyUsed: recovered(account.energyUsage, account.energyTime, now),
    EnergyLimit: energyLimit(account),
    TotalEnergyLimit: TOTAL_ENERGY_LIMIT,
    TotalEnergyWeight: TOTAL_ENERGY_WEIGHT,
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== 0));
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

function makeBlock(number: number, parentHash: string, transactions: StoredTransaction[], timestamp = Date.now()): StoredBlock {
  const digest = createHash('sha256')
    .update(`${parentHash}:${number}:${transactions.map((transaction) => transaction.txID).join(',')}:${randomBytes(8).toString('hex')}`)
    .digest('hex');
  // As java-tron builds a block id: the block number in the first 8 bytes, a header hash after.
  return { number, blockID: number.toString(16).padStart(16, '0') + digest.slice(16), parentHash, timestamp, transactions };
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
  if (transaction.signed) {
    return {
      ret: [{ contractRet: transaction.receipt?.result ?? 'SUCCESS' }],
      signature: [transaction.signed.signature],
      txID: transaction.txID,
      raw_data: rawDataToJson(decodeRawData(transaction.signed.rawDataHex)),
      raw_data_hex: transaction.signed.rawDataHex,
    };
  }
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
  if (transaction.signed && transaction.receipt) return signedInfoJson(base, transaction, transaction.receipt);
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

/**
 * A signed transaction's info, from what it cost when mined (TransactionUtil.buildTransactionInfoInstance):
 * `fee` is everything it burned; `receipt` says how (energy from stake, energy burned, bandwidth
 * used or burned); a contract call adds `contract_address`, its `receipt.result`, and its log or,
 * failed, `result: "FAILED"` and `resMessage`. Zero fields are left out, as java-tron prints them.
 */
function signedInfoJson(base: { id: string; contractResult: string[] }, transaction: StoredTransaction, receipt: Receipt) {
  const set = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== 0 && item !== undefined));
  const raw = decodeRawData(transaction.signed!.rawDataHex);
  const receiptJson = set({
    energy_usage: receipt.energyUsage,
    energy_fee: receipt.energyFee,
    energy_usage_total: receipt.energyUsageTotal,
    net_usage: receipt.netUsage,
    net_fee: receipt.netFee,
    result: receipt.result,
  });
  const info: Record<string, unknown> = { ...base, ...set({ fee: receipt.fee }) };
  if (raw.contract.type !== 'TriggerSmartContract') return { ...info, receipt: receiptJson };
  info.contract_address = raw.contract.contract_address;
  if (receipt.result === 'SUCCESS') {
    const to = `41${raw.contract.data.slice(32, 72)}`;
    return {
      ...info,
      contractResult: [word('1')],
      receipt: receiptJson,
      log: [
        {
          address: raw.contract.contract_address.slice(2),
          topics: [TRANSFER_TOPIC, word(raw.contract.owner_address.slice(2)), word(to.slice(2))],
          data: word(BigInt(receipt.usdtPaid!).toString(16)),
        },
      ],
    };
  }
  const message =
    receipt.result === 'OUT_OF_ENERGY'
      ? `Not enough energy for 'SSTORE' operation executing: curInvokeEnergyLimit[${receipt.energyUsageTotal}]`
      : 'REVERT opcode executed';
  return { ...info, receipt: receiptJson, result: 'FAILED', resMessage: hexText(message) };
}
