/**
 * What the worker and the signer say to each other (docs/treasury.md): HTTP/1.1 over a Unix
 * socket, `Authorization: Bearer <INFLOW_SIGNER_SECRET>`, JSON bodies.
 *
 *   GET  /v1/health  → SignerHealth
 *   POST /v1/sign    SignRequest → 200 SignAnswer | 400/401/403/409/503 SignerErrorBody
 *
 * Both sides import this file, and nothing here reaches the API, the workflows or the database:
 * the signer is built from the domain's definitions and this alone.
 */
import { isAddress } from 'ethers';
import { z } from 'zod';
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

export const SignRequestSchema = z
  .object({
    /** The caller's idempotency key: once signed, the same id with the same body answers the same bytes; with another body, 409. */
    request_id: label(200),
    workflow_id: label(500),
    reason: label(500),
    mode: z.enum(modes),
    network: z.enum(networkNames),
    kind: z.enum(['sweep', 'gas_topup']),
    from: z.discriminatedUnion('wallet', [
      z.object({ wallet: z.literal('deposit'), branch, index: childIndex }).strict(),
      z.object({ wallet: z.literal('gas') }).strict(),
    ]),
    /** gas_topup: the deposit address being topped up. */
    destination: z.object({ branch, index: childIndex }).strict().optional(),
    /** EIP-1559 (type 2). */
    tx: SignTransactionSchema,
  })
  .strict();

export type SignRequest = z.infer<typeof SignRequestSchema>;
export type SignTransaction = SignRequest['tx'];
export type SignKind = SignRequest['kind'];
export type DepositBranch = z.infer<typeof branch>;

export interface SignAnswer {
  /** The signed type-2 transaction, ready for eth_sendRawTransaction. */
  signed_transaction: string;
  /** Its hash (keccak256 of the signed bytes). */
  hash: string;
  /** The address that signed: the deposit address or the gas wallet. */
  from: string;
}

export interface SignerHealth {
  ok: true;
  /** Modes with key material: only these are signed for. */
  modes: Array<(typeof modes)[number]>;
  /** The gas wallet (m/44'/60'/1'/0/0) of each mode with keys. */
  gas_wallets: Partial<Record<(typeof modes)[number], string>>;
  /** Per mode, the treasury each EVM network's sweeps may pay. */
  treasuries: Partial<Record<(typeof modes)[number], Partial<Record<(typeof networkNames)[number], string>>>>;
}

/**
 * - `invalid_request` (400): not JSON, or not a SignRequest.
 * - `unauthorized` (401): no bearer token, or not the shared secret.
 * - `policy_refused` (403): a well-formed request the signer's policy forbids (the message names the rule).
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
