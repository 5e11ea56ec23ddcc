/**
 * The signer's HTTP/1.1 server on a Unix socket (the protocol: src/treasury/signer-protocol.ts).
 * Requests to sign are decided one at a time, in order: the policy (policy.ts), then the
 * signature, then the audit line, written and fsynced before the answer leaves. A decision that
 * cannot be logged is not signed.
 *
 * Once per payout: the first payout transaction signed for a (mode, network, payout id) fixes
 * it. On an EVM network it fixes its nonce: another request for that payout at another nonce is
 * refused (`payout_once`), since two transactions at two nonces could both be mined and pay
 * twice; at the same nonce (a fee replacement) only one of the versions can be mined. Tron has no
 * nonce: any two different transactions could both be mined, so the first fixes its txID, and
 * the payout is signed as exactly that transaction only (the same bytes again, under any
 * request_id, answer the same signature). What was signed is rebuilt from the audit log at start
 * (rememberSigned), as the request ids are.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lstat, unlink, chmod } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Transaction } from 'ethers';
import { recoverSigner, rawDataToJson, transactionId, type TronRawData } from '../chains/tron/transaction';
import type { Logger } from '../logger';
import { modes, type Mode } from '../domain/mode';
import type { Network } from '../domain/networks';
import {
  signRequestSchemaFor,
  type AnySignRequest,
  type SignAnswer,
  type SignerErrorBody,
  type SignerErrorCode,
  type SignerHealth,
  type SignRequest,
  type TronSignAnswer,
  type TronSignRequest,
} from '../treasury/signer-protocol';
import { AuditLogError, sha256Hex, type AuditEntry, type AuditLog } from './audit-log';
import type { SignerConfig } from './config';
import {
  depositPath,
  GAS_WALLET_PATH,
  HOT_WALLET_PATH,
  TRON_GAS_WALLET_PATH,
  TRON_HOT_WALLET_PATH,
  tronAddressOfKey,
  tronDepositPath,
  type KeySource,
} from './keys';
import { decide, type Decision } from './policy';
import { decideTron, tronBase58, type TronDecision } from './tron-policy';

const MAX_BODY_BYTES = 64 * 1024;

export interface SignerDeps {
  config: SignerConfig;
  /** Key material of each mode that has some. */
  keys: Partial<Record<Mode, KeySource>>;
  audit: AuditLog;
  /** request_id → request_sha256 of every request signed so far (filled from the audit log at start). */
  seen: Map<string, string>;
  /** payoutKey(mode, network, payout id) → what the first payout transaction signed for it fixed (filled from the audit log at start). */
  signedPayouts: Map<string, SignedPayout>;
  logger: Logger;
}

/**
 * What the first signed transaction of a payout fixes: on an EVM network its nonce (a fee
 * replacement at that nonce may follow, none at another); on Tron, which has no nonce, its txID
 * (the payout is signed as that transaction only).
 */
export type SignedPayout = { nonce: number } | { txId: string };

/** The key of a payout in SignerDeps.signedPayouts: one payout id per mode and network. */
export function payoutKey(mode: string, network: string, payoutId: string): string {
  return JSON.stringify([mode, network, payoutId]);
}

/**
 * What the signer remembers of a line of its audit log at start: a signed request's id and body
 * hash (so a repeat answers the same bytes and a changed body is a conflict), and what a signed
 * payout's first transaction fixed: its nonce (so it is signed at no other) or, on Tron, its txID
 * (so it is signed as no other transaction).
 */
export function rememberSigned(entry: AuditEntry, seen: SignerDeps['seen'], signedPayouts: SignerDeps['signedPayouts']): void {
  if (entry.decision !== 'signed') return;
  if (!seen.has(entry.request_id)) seen.set(entry.request_id, entry.request_sha256);
  if (entry.kind !== 'payout' || typeof entry.payout_id !== 'string') return;
  const key = payoutKey(entry.mode, entry.network, entry.payout_id);
  if (signedPayouts.has(key)) return;
  if (entry.network === 'tron') {
    if (typeof entry.tx_hash === 'string') signedPayouts.set(key, { txId: entry.tx_hash });
  } else if (entry.nonce !== null) signedPayouts.set(key, { nonce: entry.nonce });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: SignerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function createSignerServer(deps: SignerDeps): Server {
  const secretDigest = createHash('sha256').update(deps.config.secret).digest();
  let decisions: Promise<unknown> = Promise.resolve();
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      const known = error instanceof HttpError ? error : undefined;
      if (!known) deps.logger.error({ err: error }, 'signer: unexpected failure');
      send(response, known?.status ?? 500, { error: { code: known?.code ?? 'internal_error', message: known?.message ?? 'unexpected failure' } });
    });
  });
  // Bounded waits: a worker that stalls mid-request does not hold a socket for ever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const route = url === '/v1/health' ? 'GET' : url === '/v1/sign' ? 'POST' : undefined;
    if (!route) throw new HttpError(404, 'not_found', `no such path: ${url.slice(0, 100)} (GET /v1/health, POST /v1/sign)`);
    if (!authorized(request.headers.authorization))
      throw new HttpError(401, 'unauthorized', 'Authorization: Bearer <INFLOW_SIGNER_SECRET> is missing or wrong');
    if (request.method !== route) throw new HttpError(405, 'method_not_allowed', `${url} takes ${route}`);
    if (route === 'GET') return send(response, 200, health(deps));
    const body = await readBody(request);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'invalid_request', 'the body is not JSON');
    }
    // network "tron": a Tron request (raw_data_hex); any other, an EVM one (tx).
    const parsed = signRequestSchemaFor(json).safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new HttpError(400, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    // One decision at a time: the audit log's order is the order of decisions, and a request_id is checked against all before it.
    const decided = decisions.then(() => signOne(deps, parsed.data as AnySignRequest));
    decisions = decided.catch(() => undefined);
    const [status, answer] = await decided;
    send(response, status, answer);
  }

  function authorized(header: string | undefined): boolean {
    const match = /^Bearer (.+)$/.exec(header ?? '');
    if (!match) return false;
    // Equal-length digests: the comparison takes the same time whatever was sent.
    return timingSafeEqual(createHash('sha256').update(match[1]!).digest(), secretDigest);
  }

  return server;
}

function health({ config, keys }: SignerDeps): SignerHealth {
  const withKeys = modes.filter((mode) => keys[mode]);
  const treasuries: SignerHealth['treasuries'] = {};
  for (const mode of withKeys) {
    const configured: Array<[string, string]> = Object.entries(config.policies[mode]).flatMap(([network, policy]) =>
      policy?.treasury ? [[network, policy.treasury] as [string, string]] : [],
    );
    if (config.tron[mode].treasury) configured.push(['tron', config.tron[mode].treasury]);
    if (configured.length > 0) treasuries[mode] = Object.fromEntries(configured);
  }
  return {
    ok: true,
    modes: withKeys,
    gas_wallets: Object.fromEntries(withKeys.map((mode) => [mode, keys[mode]!.key(GAS_WALLET_PATH).address])),
    treasuries,
    tron_gas_wallets: Object.fromEntries(withKeys.map((mode) => [mode, tronAddressOfKey(keys[mode]!.key(TRON_GAS_WALLET_PATH))])),
    hot_wallets: Object.fromEntries(withKeys.map((mode) => [mode, keys[mode]!.key(HOT_WALLET_PATH).address])),
    tron_hot_wallets: Object.fromEntries(withKeys.map((mode) => [mode, tronAddressOfKey(keys[mode]!.key(TRON_HOT_WALLET_PATH))])),
  };
}

/** What one request's decision (and signature, when signed) puts in its audit line, besides the fields every line has. */
interface Judged {
  decision: Decision | TronDecision;
  signed: SignAnswer | TronSignAnswer | undefined;
  /** chain_id … tx_hash, and Tron's own fields, as the audit line holds them. */
  details: Pick<AuditEntry, 'chain_id' | 'from' | 'to' | 'value' | 'token' | 'payout_id' | 'nonce' | 'tx_hash'> & Pick<AuditEntry, 'tron'>;
}

async function signOne(deps: SignerDeps, request: AnySignRequest): Promise<[number, SignAnswer | TronSignAnswer | SignerErrorBody]> {
  const requestSha256 = sha256Hex(canonicalJson(request));
  const seen = deps.seen.get(request.request_id);
  const conflict: Decision | undefined =
    seen !== undefined && seen !== requestSha256
      ? { allowed: false, rule: 'request_conflict', message: `request_id ${request.request_id} was signed before for a different request` }
      : undefined;
  const { decision, signed, details } = 'raw_data_hex' in request ? judgeTron(deps, request, conflict) : judgeEvm(deps, request, conflict);
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    request_id: request.request_id,
    workflow_id: request.workflow_id,
    reason: request.reason,
    kind: request.kind,
    mode: request.mode,
    network: request.network,
    chain_id: details.chain_id,
    from: details.from,
    to: details.to,
    value: details.value,
    token: details.token,
    payout_id: details.payout_id,
    nonce: details.nonce,
    tx_hash: details.tx_hash,
    decision: signed ? 'signed' : 'refused',
    rule: decision.allowed ? null : decision.rule,
    refusal: decision.allowed ? null : decision.message,
    repeat: seen === requestSha256,
    request_sha256: requestSha256,
    ...(details.tron && { tron: details.tron }),
  };
  try {
    await deps.audit.append(entry);
  } catch (error) {
    deps.logger.error({ err: error, request_id: request.request_id }, 'signer: the audit log cannot be written; nothing is signed');
    const message = error instanceof AuditLogError ? error.message : String(error);
    return [503, { error: { code: 'audit_log_unavailable', message: `not signed: the decision could not be written to the audit log (${message})` } }];
  }
  // Only a signature binds its request_id: a refused request's id may come again with another body.
  if (signed) rememberSigned(entry, deps.seen, deps.signedPayouts);
  deps.logger.info(
    {
      request_id: request.request_id,
      workflow_id: request.workflow_id,
      kind: request.kind,
      mode: request.mode,
      network: request.network,
      ...(entry.payout_id !== null && { payout_id: entry.payout_id }),
      decision: entry.decision,
      rule: entry.rule,
      tx_hash: entry.tx_hash,
    },
    signed ? 'signed' : 'refused',
  );
  if (signed) return [200, signed];
  const [status, code] = decision.allowed
    ? [500, 'internal_error' as const]
    : decision.rule === 'request_conflict'
      ? [409, 'request_conflict' as const]
      : [403, 'policy_refused' as const];
  return [status, { error: { code, message: decision.allowed ? 'unexpected' : decision.message } }];
}

/** The BIP-32 path of the EVM key that `from` names. */
function evmPath(from: SignRequest['from']): string {
  switch (from.wallet) {
    case 'gas':
      return GAS_WALLET_PATH;
    case 'hot':
      return HOT_WALLET_PATH;
    case 'deposit':
      return depositPath(from.branch, from.index);
  }
}

function judgeEvm(deps: SignerDeps, request: SignRequest, conflict: Decision | undefined): Judged {
  const keys = deps.keys[request.mode];
  const from = keys?.key(evmPath(request.from)).address;
  const destinationAddress = request.destination && keys?.key(depositPath(request.destination.branch, request.destination.index)).address;
  const decided: Decision =
    conflict ??
    decide(request, {
      policy: deps.config.policies[request.mode][request.network as Network],
      hasKeys: Boolean(keys),
      payoutSecret: deps.config.payoutAuthorizationSecret,
      ...(destinationAddress && { destinationAddress }),
    });
  const decision = decided.allowed && request.kind === 'payout' ? (oncePerPayout(deps, request) ?? decided) : decided;
  let signed: SignAnswer | undefined;
  if (decision.allowed) signed = signTransaction(keys!, request, from!);
  const { tx } = request;
  return {
    decision,
    signed,
    details: {
      chain_id: tx.chain_id,
      from: from ?? null,
      to: tx.to,
      value: tx.value,
      token:
        decision.allowed && decision.token
          ? {
              contract: decision.token.contract,
              currency: decision.token.currency,
              recipient: decision.token.recipient,
              amount: decision.token.amount.toString(),
            }
          : null,
      payout_id: request.payout?.id ?? null,
      nonce: tx.nonce,
      tx_hash: signed?.hash ?? null,
    },
  };
}

/** An EVM payout allowed by the policy: refused when its id was signed before at another nonce. */
function oncePerPayout(deps: SignerDeps, request: SignRequest): Decision | undefined {
  const payoutId = request.payout!.id;
  const before = deps.signedPayouts.get(payoutKey(request.mode, request.network, payoutId));
  if (before === undefined || !('nonce' in before) || before.nonce === request.tx.nonce) return undefined;
  const { nonce } = before;
  return {
    allowed: false,
    rule: 'payout_once',
    message: `payout ${payoutId} was signed before at nonce ${nonce} on ${request.network} in ${request.mode} mode: it is signed at that nonce only (a fee replacement), never at another (${request.tx.nonce}), so that it cannot be paid twice`,
  };
}

/**
 * A Tron payout allowed by the policy: refused when its id was signed before as another
 * transaction. Tron has no nonce: two different transactions for one payout could both be mined.
 */
function oncePerTronPayout(deps: SignerDeps, request: TronSignRequest): Decision | undefined {
  const payoutId = request.payout!.id;
  const before = deps.signedPayouts.get(payoutKey(request.mode, request.network, payoutId));
  if (before === undefined || !('txId' in before)) return undefined;
  // The txID the signature is over: sha256 of exactly the bytes asked for.
  const txId = transactionId(Buffer.from(request.raw_data_hex, 'hex'));
  if (before.txId === txId) return undefined;
  return {
    allowed: false,
    rule: 'payout_once',
    message: `payout ${payoutId} was signed before as txID ${before.txId} on tron in ${request.mode} mode: Tron has no nonce, so a second transaction could be mined beside the first; it is signed as that transaction only, never as another (${txId})`,
  };
}

/** The BIP-32 path of the Tron key that `from` (or a destination, a deposit address) names. */
function tronPath(from: TronSignRequest['from'] | NonNullable<TronSignRequest['destination']>): string {
  if (!('wallet' in from)) return tronDepositPath(from.branch, from.index);
  switch (from.wallet) {
    case 'gas':
      return TRON_GAS_WALLET_PATH;
    case 'hot':
      return TRON_HOT_WALLET_PATH;
    case 'deposit':
      return tronDepositPath(from.branch, from.index);
  }
}

function judgeTron(deps: SignerDeps, request: TronSignRequest, conflict: Decision | undefined): Judged {
  const keys = deps.keys[request.mode];
  const fromAddress = keys && tronAddressOfKey(keys.key(tronPath(request.from)));
  const destinationAddress = request.destination && keys && tronAddressOfKey(keys.key(tronPath(request.destination)));
  const judged: TronDecision | undefined = conflict
    ? undefined
    : decideTron(request, {
        policy: deps.config.tron[request.mode],
        hasKeys: Boolean(keys),
        now: Date.now(),
        payoutSecret: deps.config.payoutAuthorizationSecret,
        ...(fromAddress && { fromAddress }),
        ...(destinationAddress && { destinationAddress }),
      });
  const once = judged?.allowed && request.kind === 'payout' ? oncePerTronPayout(deps, request) : undefined;
  const decision: Decision | TronDecision = conflict ?? once ?? judged!;
  let signed: TronSignAnswer | undefined;
  if (judged?.allowed && !once) signed = signTronTransaction(keys!, request, judged.raw, fromAddress!);
  const raw = judged?.raw;
  const contract = raw?.contract;
  const [to, value] =
    contract?.type === 'TransferContract'
      ? [contract.to_address, contract.amount]
      : contract?.type === 'TriggerSmartContract'
        ? [contract.contract_address, contract.call_value]
        : contract?.type === 'DelegateResourceContract' || contract?.type === 'UnDelegateResourceContract'
          ? [contract.receiver_address, contract.balance]
          : [undefined, undefined];
  const token = decision.allowed && 'token' in decision ? decision.token : undefined;
  return {
    decision,
    signed,
    details: {
      chain_id: null,
      from: fromAddress ?? null,
      to: to ? tronBase58(to) : null,
      value: value?.toString() ?? null,
      token: token ? { contract: token.contract, currency: token.currency, recipient: token.recipient, amount: token.amount.toString() } : null,
      payout_id: request.payout?.id ?? null,
      nonce: null,
      tx_hash: signed?.hash ?? null,
      tron: {
        contract_type: contract?.type ?? null,
        ...(contract && 'resource' in contract && { resource: contract.resource }),
        fee_limit: raw?.fee_limit ?? null,
        expiration: raw?.expiration ?? null,
        raw_data_hex: request.raw_data_hex,
      },
    },
  };
}

/**
 * The bytes asked for, signed by the key `from` names: secp256k1 over the txID (sha256 of the
 * bytes), deterministic (RFC 6979, as ethers' SigningKey signs), so the same request answers the
 * same signature. The signature is checked to recover the transaction's owner before it leaves.
 */
function signTronTransaction(keys: KeySource, request: TronSignRequest, raw: TronRawData, expectedFrom: string): TronSignAnswer {
  const txID = transactionId(Buffer.from(request.raw_data_hex, 'hex'));
  const signature = keys.key(tronPath(request.from)).sign(`0x${txID}`);
  const signatureHex = signature.r.slice(2) + signature.s.slice(2) + (signature.yParity === 1 ? '01' : '00');
  const signer = recoverSigner(txID, signatureHex);
  if (signer !== expectedFrom) throw new Error(`the signature recovers ${signer}, not ${expectedFrom}`);
  return {
    signed_transaction: { txID, raw_data: rawDataToJson(raw), raw_data_hex: request.raw_data_hex, signature: [signatureHex] },
    hash: txID,
    from: expectedFrom,
  };
}

/** The EIP-1559 transaction, signed by the key that `from` names (deterministic: the same request, the same bytes). */
function signTransaction(keys: KeySource, request: SignRequest, expectedFrom: string): SignAnswer {
  const { tx } = request;
  const transaction = Transaction.from({
    type: 2,
    chainId: BigInt(tx.chain_id),
    nonce: tx.nonce,
    to: tx.to,
    value: BigInt(tx.value),
    data: tx.data,
    gasLimit: BigInt(tx.gas_limit),
    maxFeePerGas: BigInt(tx.max_fee_per_gas),
    maxPriorityFeePerGas: BigInt(tx.max_priority_fee_per_gas),
    accessList: [],
  });
  const key = keys.key(evmPath(request.from));
  transaction.signature = key.sign(transaction.unsignedHash);
  if (transaction.from !== expectedFrom) throw new Error(`the signature recovers ${transaction.from}, not ${expectedFrom}`);
  return { signed_transaction: transaction.serialized, hash: transaction.hash!, from: transaction.from };
}

/** JSON with object keys sorted: the same request, the same text, whatever order its fields came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * Listens on the Unix socket at `path`, private to this user (mode 0600, made so: no moment
 * when another user could connect). A socket file left by a signer that died is removed; one a
 * live signer answers on, or any other kind of file, is refused.
 */
export async function listenOnSocket(server: Server, path: string): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing) {
    if (!existing.isSocket()) throw new Error(`INFLOW_SIGNER_SOCKET ${path} exists and is not a socket: remove it, or choose another path`);
    if (await answers(path)) throw new Error(`INFLOW_SIGNER_SOCKET ${path}: another signer is listening there`);
    await unlink(path);
  }
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  await chmod(path, 0o600);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
