/**
 * What the worker and the signer say to each other (docs/treasury.md): HTTP/1.1 over a Unix
 * socket, `Authorization: Bearer <INFLOW_SIGNER_SECRET>`, JSON bodies.
 *
 *   GET  /v1/health  → SignerHealth
 *   POST /v1/sign    SignRequest (EVM: sweep, gas_topup, payout) → 200 SignAnswer | 400/401/403/409/503 SignerErrorBody
 *                    TronSignRequest (network "tron": sweep, gas_topup, energy_delegation, energy_reclaim, payout)
 *                      → 200 TronSignAnswer | the same errors
 *
 * Both sides import this file, and nothing here reaches the API, the workflows or the database:
 * the signer is built from the domain's definitions and this alone.
 */
import { isAddress } from 'ethers';
import { z } from 'zod';
import { isTronAddress } from '../chains/tron/address';
import { modes } from '../domain/mode';
import { networkNames } from '../domain/networks';

/** A non-negative whole number as decimal text (wei, gas), at most 78 digits (2^256 has 78). */
const decimal = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, 'must be a whole number as decimal text, e.g. "21000"')
  .refine((text) => !/^\d+$/.test(text) || BigInt(text) < 2n ** 256n, 'must be below 2^256');
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x… address (20 bytes, hex)')
  .refine((text) => isAddress(text), 'has a bad EIP-55 checksum (mixed case that does not match)');
const childIndex = z.number().int().min(0).max(0x7fffffff);
const branch = z.enum(['customers', 'orders']);
/** Free text the audit log keeps: printable, bounded. */
const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must be printable text');

export const SignTransactionSchema = z
  .object({
    chain_id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    nonce: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    to: address,
    /** wei, decimal */
    value: decimal,
    /** 0x hex: `0x` for a native transfer. */
    data: z
      .string()
      .max(2 + 2 * 4_096)
      .regex(/^0x([0-9a-fA-F]{2})*$/, 'must be 0x-prefixed hex bytes'),
    gas_limit: decimal,
    max_fee_per_gas: decimal,
    max_priority_fee_per_gas: decimal,
  })
  .strict();

const payoutFields = {
  /** The payout's id: the signer signs one nonce per id (per mode and network); on Tron, one transaction (txID). */
  id: label(100),
  currency: z.string().regex(/^[A-Z0-9]{1,16}$/, 'must be a currency code: 1 to 16 upper-case letters or digits, e.g. "USDT"'),
  /** Base units, decimal. */
  amount: decimal,
  /** 64 lower-case hex characters. */
  authorization: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (HMAC-SHA256)'),
};

/**
 * A payout's terms and the API's authorization of them: the HMAC-SHA256 (INFLOW_PAYOUT_AUTHORIZATION_SECRET)
 * of `payoutAuthorization(secret, { payout_id: id, mode, network, currency, amount, destination })`.
 */
export const PayoutDetailsSchema = z
  .object({
    ...payoutFields,
    /** The address paid, as the API authorised it (an EIP-55 checksum, or all lower case). */
    destination: address,
  })
  .strict();

/** A Tron payout's terms: as PayoutDetailsSchema, the destination a Tron address (T…, base58check). */
export const TronPayoutDetailsSchema = z
  .object({
    ...payoutFields,
    /** The address paid, as the API authorised it (T…). */
    destination: z
      .string()
      .regex(/^T[1-9A-HJ-NP-Za-km-z]{33}$/, 'must be a Tron address (T…, base58check)')
      .refine((text) => isTronAddress(text), 'has a bad base58check checksum'),
  })
  .strict();

export const SignRequestSchema = z
  .object({
    /** The caller's idempotency key: once signed, the same id with the same body answers the same bytes; with another body, 409. */
    request_id: label(200),
    workflow_id: label(500),
    reason: label(500),
    mode: z.enum(modes),
    network: z.enum(networkNames),
    /**
     * sweep: from a deposit address to the treasury; gas_topup: from the gas wallet to `destination`;
     * payout: from the hot wallet, exactly the terms `payout` carries, authorised by the API.
     */
    kind: z.enum(['sweep', 'gas_topup', 'payout']),
    from: z.discriminatedUnion('wallet', [
      z.object({ wallet: z.literal('deposit'), branch, index: childIndex }).strict(),
      z.object({ wallet: z.literal('gas') }).strict(),
      /** The treasury's hot wallet (m/44'/60'/2'/0/0): pays payouts. */
      z.object({ wallet: z.literal('hot') }).strict(),
    ]),
    /** gas_topup: the deposit address being topped up. */
    destination: z.object({ branch, index: childIndex }).strict().optional(),
    /** payout: its terms as the API authorised them (src/treasury/payout-authorization.ts). */
    payout: PayoutDetailsSchema.optional(),
    /** EIP-1559 (type 2). */
    tx: SignTransactionSchema,
  })
  .strict();

/**
 * A Tron request: the same fields as an EVM one, and the transaction the worker built through the
 * node as its protobuf bytes (`raw_data_hex`, as java-tron prints it). The signer decodes the bytes
 * itself (strictly: src/chains/tron/transaction.ts) and signs exactly them; nothing else the
 * worker might say about the transaction (its txID, its raw_data JSON) is taken.
 */
export const TronSignRequestSchema = z
  .object({
    request_id: label(200),
    workflow_id: label(500),
    reason: label(500),
    mode: z.enum(modes),
    network: z.literal('tron'),
    /**
     * sweep: from a deposit address, a TRX TransferContract or a TRC-20 transfer(treasury, amount) to the treasury;
     * gas_topup: TRX from the gas wallet to `destination`;
     * energy_delegation / energy_reclaim: DelegateResource / UnDelegateResource of ENERGY from the gas wallet to `destination`;
     * payout: from the hot wallet, exactly the terms `payout` carries, authorised by the API: a TRX TransferContract
     * of the amount to the destination, or a TRC-20 transfer(destination, amount) of the currency's contract.
     */
    kind: z.enum(['sweep', 'gas_topup', 'energy_delegation', 'energy_reclaim', 'payout']),
    from: z.discriminatedUnion('wallet', [
      z.object({ wallet: z.literal('deposit'), branch, index: childIndex }).strict(),
      z.object({ wallet: z.literal('gas') }).strict(),
      /** Tron's hot wallet (m/44'/195'/2'/0/0): pays payouts. */
      z.object({ wallet: z.literal('hot') }).strict(),
    ]),
    /** gas_topup, energy_delegation, energy_reclaim: the deposit address that receives. */
    destination: z.object({ branch, index: childIndex }).strict().optional(),
    /** payout: its terms as the API authorised them (src/treasury/payout-authorization.ts). */
    payout: TronPayoutDetailsSchema.optional(),
    /** Transaction.raw's protobuf bytes, hex without 0x (java-tron's `raw_data_hex`); a sweep's is a few hundred bytes. */
    raw_data_hex: z
      .string()
      .min(2)
      .max(2 * 4_096)
      .regex(/^([0-9a-f]{2})+$/, "must be lower-case hex bytes without 0x (java-tron's raw_data_hex)"),
  })
  .strict();

/** The schema a request is read with: network "tron" is a Tron request, any other an EVM one. */
export function signRequestSchemaFor(body: unknown): typeof SignRequestSchema | typeof TronSignRequestSchema {
  return typeof body === 'object' && body !== null && (body as { network?: unknown }).network === 'tron' ? TronSignRequestSchema : SignRequestSchema;
}

/** An EVM request (network ≠ "tron": a Tron request is a TronSignRequest). */
export type SignRequest = z.infer<typeof SignRequestSchema>;
export type TronSignRequest = z.infer<typeof TronSignRequestSchema>;
export type AnySignRequest = SignRequest | TronSignRequest;
export type TronSignKind = TronSignRequest['kind'];
export type SignTransaction = SignRequest['tx'];
export type SignKind = SignRequest['kind'];
/** A payout request's `payout`: the terms and the API's authorization of them. */
export type PayoutDetails = z.infer<typeof PayoutDetailsSchema>;
/** A Tron payout request's `payout` (its destination T…). */
export type TronPayoutDetails = z.infer<typeof TronPayoutDetailsSchema>;
export type DepositBranch = z.infer<typeof branch>;

export interface SignAnswer {
  /** The signed type-2 transaction, ready for eth_sendRawTransaction. */
  signed_transaction: string;
  /** Its hash (keccak256 of the signed bytes). */
  hash: string;
  /** The address that signed: the deposit address, the gas wallet or the hot wallet. */
  from: string;
}

/** A signed Tron transaction as java-tron's /wallet/broadcasttransaction takes it (raw_data's addresses in hex, `41…`). */
export interface SignedTronTransactionBody {
  txID: string;
  raw_data: Record<string, unknown>;
  raw_data_hex: string;
  /** One 65-byte signature, r ‖ s ‖ recovery id (00 or 01), hex. */
  signature: string[];
}

export interface TronSignAnswer {
  /** The body for /wallet/broadcasttransaction: exactly the bytes asked for (raw_data_hex), signed. */
  signed_transaction: SignedTronTransactionBody;
  /** The txID: sha256 of raw_data's bytes. */
  hash: string;
  /** The Tron address (T…) that signed: the deposit address, the gas wallet or the hot wallet. */
  from: string;
}

export interface SignerHealth {
  ok: true;
  /** Modes with key material: only these are signed for. */
  modes: Array<(typeof modes)[number]>;
  /** The gas wallet (m/44'/60'/1'/0/0) of each mode with keys. */
  gas_wallets: Partial<Record<(typeof modes)[number], string>>;
  /** Per mode, the treasury each network's sweeps may pay (Tron's as T…). */
  treasuries: Partial<Record<(typeof modes)[number], Partial<Record<(typeof networkNames)[number], string>>>>;
  /** The Tron gas wallet (m/44'/195'/1'/0/0, T…) of each mode with keys. */
  tron_gas_wallets: Partial<Record<(typeof modes)[number], string>>;
  /** The EVM hot wallet (m/44'/60'/2'/0/0), which pays payouts, of each mode with keys. */
  hot_wallets: Partial<Record<(typeof modes)[number], string>>;
  /** The Tron hot wallet (m/44'/195'/2'/0/0, T…), which pays Tron payouts, of each mode with keys. */
  tron_hot_wallets: Partial<Record<(typeof modes)[number], string>>;
}

/**
 * - `invalid_request` (400): not JSON, or not a SignRequest.
 * - `unauthorized` (401): no bearer token, or not the shared secret.
 * - `policy_refused` (403): a well-formed request the signer's policy forbids (the message names the rule), or
 *   a payout whose id was signed before at another nonce, or on Tron as another transaction (rule `payout_once`).
 * - `request_conflict` (409): the request_id was signed before for a different body.
 * - `audit_log_unavailable` (503): the decision could not be written to the audit log, so nothing was signed.
 * - `not_found` (404), `method_not_allowed` (405), `payload_too_large` (413).
 */
export type SignerErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'policy_refused'
  | 'request_conflict'
  | 'audit_log_unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'internal_error';

export interface SignerErrorBody {
  error: { code: SignerErrorCode; message: string };
}
