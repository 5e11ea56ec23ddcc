/**
 * Tron transactions as java-tron encodes, hashes and signs them: a pure codec, no node calls.
 *
 * `raw_data` is the protobuf message `protocol.Transaction.raw` (Tron.proto), hand-encoded here:
 *
 *   Transaction.raw  1 ref_block_bytes (bytes, 2)   4 ref_block_hash (bytes, 8)   8 expiration (int64, ms)
 *                    11 contract (repeated Contract; java-tron runs exactly one)   14 timestamp (int64, ms)
 *                    18 fee_limit (int64, sun)
 *   Contract         1 type (ContractType enum)   2 parameter (google.protobuf.Any)
 *   Any              1 type_url ("type.googleapis.com/protocol.<Name>")   2 value (the contract's bytes)
 *
 * and the contracts a treasury sweep needs (balance_contract.proto, smart_contract.proto):
 *
 *   TransferContract (1)             1 owner_address  2 to_address  3 amount
 *   TriggerSmartContract (31)        1 owner_address  2 contract_address  3 call_value  4 data
 *   FreezeBalanceV2Contract (54)     1 owner_address  2 frozen_balance  3 resource
 *   DelegateResourceContract (57)    1 owner_address  2 resource  3 balance  4 receiver_address  5 lock  6 lock_period
 *   UnDelegateResourceContract (58)  1 owner_address  2 resource  3 balance  4 receiver_address
 *
 * proto3 leaves a field out when it holds its default (0, false, empty, the enum's first value
 * BANDWIDTH), and protobuf-java writes fields in ascending number: one canonical encoding per
 * transaction. Decoding is strict so that a signer knows exactly what it signs: any field, wire
 * type, contract type or Any type_url not listed above is refused, as is more than one contract, a
 * negative int64, and any byte string that is not the canonical encoding of what was read
 * (fields out of order or repeated, a default written out, a varint padded): decode(x) re-encodes
 * to x or throws. Fields java-tron has but sweeps never set (ref_block_num, auths, data/memo,
 * scripts, Permission_id, provider, ContractName, call_token_value, token_id) are refused too.
 *
 * txID = sha256(raw_data bytes) (TransactionCapsule.getTransactionId). A signature is secp256k1
 * over the txID itself (no prefix), 65 bytes r ‖ s ‖ v with v the recovery id 0 or 1 as java-tron
 * writes it (27/28 are accepted when reading, as java-tron's SignUtils does); the signer's address
 * is the 20-byte keccak id of its public key with 0x41 in front (address.ts).
 *
 * Addresses are carried as java-tron's JSON prints them without `visible`: 21-byte hex starting
 * `41`, lower case, no 0x. Sun amounts are bigints; times are epoch milliseconds.
 */
import { sha256 } from '@noble/hashes/sha2';
import { computeAddress, Signature, SigningKey } from 'ethers';
import { tronAddressFromAccountId, tronAddressToHex } from './address';

export type TronResource = 'BANDWIDTH' | 'ENERGY';

export interface TransferContract {
  type: 'TransferContract';
  owner_address: string;
  to_address: string;
  amount: bigint;
}

export interface TriggerSmartContract {
  type: 'TriggerSmartContract';
  owner_address: string;
  contract_address: string;
  /** TRX sent with the call, sun (0 when none). */
  call_value: bigint;
  /** The call data, hex without 0x. */
  data: string;
}

export interface FreezeBalanceV2Contract {
  type: 'FreezeBalanceV2Contract';
  owner_address: string;
  frozen_balance: bigint;
  resource: TronResource;
}

export interface DelegateResourceContract {
  type: 'DelegateResourceContract';
  owner_address: string;
  resource: TronResource;
  /** Staked TRX whose resource is lent, sun. */
  balance: bigint;
  receiver_address: string;
  lock: boolean;
  /** Blocks the delegation is locked for when `lock` (0: java-tron's default, 86400 blocks). */
  lock_period: number;
}

export interface UnDelegateResourceContract {
  type: 'UnDelegateResourceContract';
  owner_address: string;
  resource: TronResource;
  balance: bigint;
  receiver_address: string;
}

export type TronContract = TransferContract | TriggerSmartContract | FreezeBalanceV2Contract | DelegateResourceContract | UnDelegateResourceContract;

export interface TronRawData {
  contract: TronContract;
  /** Bytes 6..8 of the reference block's number, hex (2 bytes). */
  ref_block_bytes: string;
  /** Bytes 8..16 of the reference block's id, hex (8 bytes). */
  ref_block_hash: string;
  expiration: number;
  timestamp: number;
  /** The most TRX (sun) a contract call may burn for energy; 0 (left out) for other contracts. */
  fee_limit: number;
}

/** Refused by the codec: what the bytes or JSON are, and why they are not a transaction it knows. */
export class TronTransactionError extends Error {
  override name = 'TronTransactionError';
}

const CONTRACT_TYPES = {
  TransferContract: 1,
  TriggerSmartContract: 31,
  FreezeBalanceV2Contract: 54,
  DelegateResourceContract: 57,
  UnDelegateResourceContract: 58,
} as const satisfies Record<TronContract['type'], number>;
const TYPE_URL_PREFIX = 'type.googleapis.com/protocol.';
const RESOURCES: TronResource[] = ['BANDWIDTH', 'ENERGY'];
const MAX_INT64 = (1n << 63n) - 1n;
/** The order of secp256k1's group. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---------------------------------------------------------------------------------------------
// Protobuf wire format: varints (wire type 0) and length-delimited bytes (wire type 2) only.

type Field = { number: number; varint: bigint } | { number: number; bytes: Uint8Array };

class Writer {
  private readonly parts: number[] = [];
  varint(value: bigint): this {
    if (value < 0n || value > MAX_INT64) throw new TronTransactionError(`${value} is not a non-negative int64`);
    let rest = value;
    while (rest >= 0x80n) {
      this.parts.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.parts.push(Number(rest));
    return this;
  }
  /** A varint field, left out when 0 (proto3). */
  uint(field: number, value: bigint | number | boolean): this {
    const big = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
    return big === 0n ? this : this.varint(BigInt(field << 3)).varint(big);
  }
  /** A length-delimited field, left out when empty (proto3). */
  bytes(field: number, value: Uint8Array): this {
    if (value.length === 0) return this;
    this.varint(BigInt((field << 3) | 2)).varint(BigInt(value.length));
    for (const byte of value) this.parts.push(byte);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function readFields(bytes: Uint8Array, what: string): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new TronTransactionError(`${what}: truncated varint`);
      const byte = bytes[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffffffffffffn) throw new TronTransactionError(`${what}: varint longer than 64 bits`);
        return value;
      }
    }
    throw new TronTransactionError(`${what}: varint longer than 10 bytes`);
  };
  while (at < bytes.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      fields.push({ number, varint: varint() });
    } else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new TronTransactionError(`${what}: field ${number} runs past the end`);
      fields.push({ number, bytes: bytes.subarray(at, at + length) });
      at += length;
    } else {
      throw new TronTransactionError(`${what}: field ${number} has wire type ${wire}, which no field of it has`);
    }
  }
  return fields;
}

/**
 * The fields of a message by number, each of the expected wire type and at most once; any other
 * field is refused. (Canonical order and defaults are checked by re-encoding afterwards.)
 */
function expectFields(fields: Field[], what: string, known: Record<number, { name: string; wire: 'varint' | 'bytes' }>): Map<number, Field> {
  const byNumber = new Map<number, Field>();
  for (const field of fields) {
    const spec = known[field.number];
    if (!spec) throw new TronTransactionError(`${what}: field ${field.number} is not one this codec accepts`);
    if (('varint' in field ? 'varint' : 'bytes') !== spec.wire)
      throw new TronTransactionError(`${what}: ${spec.name} (field ${field.number}) has the wrong wire type`);
    if (byNumber.has(field.number)) throw new TronTransactionError(`${what}: ${spec.name} (field ${field.number}) appears more than once`);
    byNumber.set(field.number, field);
  }
  return byNumber;
}

const varintOf = (fields: Map<number, Field>, number: number): bigint => {
  const field = fields.get(number);
  if (!field) return 0n;
  const value = (field as { varint: bigint }).varint;
  if (value > MAX_INT64) throw new TronTransactionError(`field ${number} is a negative int64`);
  return value;
};
const bytesOf = (fields: Map<number, Field>, number: number): Uint8Array =>
  (fields.get(number) as { bytes: Uint8Array } | undefined)?.bytes ?? new Uint8Array();

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
function fromHex(value: string, what: string, length?: number): Uint8Array {
  const text = value.startsWith('0x') ? value.slice(2) : value;
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new TronTransactionError(`${what} is not hex: "${value}"`);
  const bytes = Uint8Array.from(Buffer.from(text, 'hex'));
  if (length !== undefined && bytes.length !== length) throw new TronTransactionError(`${what} must be ${length} bytes, not ${bytes.length}`);
  return bytes;
}

function address(bytes: Uint8Array, what: string): string {
  if (bytes.length !== 21 || bytes[0] !== 0x41) throw new TronTransactionError(`${what} is not a 21-byte 41… Tron address`);
  return hex(bytes);
}
function addressBytes(value: string, what: string): Uint8Array {
  const hexForm = /^T/.test(value) ? tronAddressToHex(value) : value.toLowerCase();
  if (!hexForm || !/^41[0-9a-f]{40}$/.test(hexForm)) throw new TronTransactionError(`${what} is not a Tron address: "${value}"`);
  return fromHex(hexForm, what);
}

function resource(value: bigint, what: string): TronResource {
  const name = RESOURCES[Number(value)];
  if (value > 1n || !name) throw new TronTransactionError(`${what}: resource ${value} is not BANDWIDTH (0) or ENERGY (1)`);
  return name;
}
const resourceCode = (value: TronResource) => {
  const code = RESOURCES.indexOf(value);
  if (code < 0) throw new TronTransactionError(`resource "${String(value)}" is not BANDWIDTH or ENERGY`);
  return code;
};

// ---------------------------------------------------------------------------------------------
// Contracts

function encodeContractValue(contract: TronContract): Uint8Array {
  const writer = new Writer().bytes(1, addressBytes(contract.owner_address, 'owner_address'));
  switch (contract.type) {
    case 'TransferContract':
      return writer.bytes(2, addressBytes(contract.to_address, 'to_address')).uint(3, contract.amount).finish();
    case 'TriggerSmartContract':
      return writer
        .bytes(2, addressBytes(contract.contract_address, 'contract_address'))
        .uint(3, contract.call_value)
        .bytes(4, fromHex(contract.data, 'data'))
        .finish();
    case 'FreezeBalanceV2Contract':
      return writer.uint(2, contract.frozen_balance).uint(3, resourceCode(contract.resource)).finish();
    case 'DelegateResourceContract':
      return writer
        .uint(2, resourceCode(contract.resource))
        .uint(3, contract.balance)
        .bytes(4, addressBytes(contract.receiver_address, 'receiver_address'))
        .uint(5, contract.lock)
        .uint(6, contract.lock_period)
        .finish();
    case 'UnDelegateResourceContract':
      return writer
        .uint(2, resourceCode(contract.resource))
        .uint(3, contract.balance)
        .bytes(4, addressBytes(contract.receiver_address, 'receiver_address'))
        .finish();
    default:
      throw new TronTransactionError(`contract type "${(contract as { type: string }).type}" is not one this codec encodes`);
  }
}

const OWNER = { 1: { name: 'owner_address', wire: 'bytes' } } as const;

function decodeContractValue(type: TronContract['type'], bytes: Uint8Array): TronContract {
  const fields = readFields(bytes, type);
  const owner = (map: Map<number, Field>) => address(bytesOf(map, 1), `${type}.owner_address`);
  switch (type) {
    case 'TransferContract': {
      const map = expectFields(fields, type, { ...OWNER, 2: { name: 'to_address', wire: 'bytes' }, 3: { name: 'amount', wire: 'varint' } });
      return { type, owner_address: owner(map), to_address: address(bytesOf(map, 2), `${type}.to_address`), amount: varintOf(map, 3) };
    }
    case 'TriggerSmartContract': {
      const map = expectFields(fields, type, {
        ...OWNER,
        2: { name: 'contract_address', wire: 'bytes' },
        3: { name: 'call_value', wire: 'varint' },
        4: { name: 'data', wire: 'bytes' },
      });
      return {
        type,
        owner_address: owner(map),
        contract_address: address(bytesOf(map, 2), `${type}.contract_address`),
        call_value: varintOf(map, 3),
        data: hex(bytesOf(map, 4)),
      };
    }
    case 'FreezeBalanceV2Contract': {
      const map = expectFields(fields, type, { ...OWNER, 2: { name: 'frozen_balance', wire: 'varint' }, 3: { name: 'resource', wire: 'varint' } });
      return { type, owner_address: owner(map), frozen_balance: varintOf(map, 2), resource: resource(varintOf(map, 3), type) };
    }
    case 'DelegateResourceContract': {
      const map = expectFields(fields, type, {
        ...OWNER,
        2: { name: 'resource', wire: 'varint' },
        3: { name: 'balance', wire: 'varint' },
        4: { name: 'receiver_address', wire: 'bytes' },
        5: { name: 'lock', wire: 'varint' },
        6: { name: 'lock_period', wire: 'varint' },
      });
      const lock = varintOf(map, 5);
      if (lock > 1n) throw new TronTransactionError(`${type}: lock is ${lock}, not a bool`);
      const lockPeriod = varintOf(map, 6);
      if (lockPeriod > BigInt(Number.MAX_SAFE_INTEGER)) throw new TronTransactionError(`${type}: lock_period ${lockPeriod} is out of range`);
      return {
        type,
        owner_address: owner(map),
        resource: resource(varintOf(map, 2), type),
        balance: varintOf(map, 3),
        receiver_address: address(bytesOf(map, 4), `${type}.receiver_address`),
        lock: lock === 1n,
        lock_period: Number(lockPeriod),
      };
    }
    case 'UnDelegateResourceContract': {
      const map = expectFields(fields, type, {
        ...OWNER,
        2: { name: 'resource', wire: 'varint' },
        3: { name: 'balance', wire: 'varint' },
        4: { name: 'receiver_address', wire: 'bytes' },
      });
      return {
        type,
        owner_address: owner(map),
        resource: resource(varintOf(map, 2), type),
        balance: varintOf(map, 3),
        receiver_address: address(bytesOf(map, 4), `${type}.receiver_address`),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Transaction.raw

/** The protobuf bytes of `raw_data`, the bytes whose sha256 is the txID and which are signed. */
export function encodeRawData(raw: TronRawData): Uint8Array {
  const typeNumber = CONTRACT_TYPES[raw.contract.type];
  if (typeNumber === undefined) throw new TronTransactionError(`contract type "${String(raw.contract.type)}" is not one this codec encodes`);
  const any = new Writer()
    .bytes(1, new TextEncoder().encode(TYPE_URL_PREFIX + raw.contract.type))
    .bytes(2, encodeContractValue(raw.contract))
    .finish();
  const contract = new Writer().uint(1, typeNumber).bytes(2, any).finish();
  return new Writer()
    .bytes(1, fromHex(raw.ref_block_bytes, 'ref_block_bytes', 2))
    .bytes(4, fromHex(raw.ref_block_hash, 'ref_block_hash', 8))
    .uint(8, integer(raw.expiration, 'expiration'))
    .bytes(11, contract)
    .uint(14, integer(raw.timestamp, 'timestamp'))
    .uint(18, integer(raw.fee_limit, 'fee_limit'))
    .finish();
}

/** `raw_data` from its protobuf bytes (or their hex, `raw_data_hex`), strictly (see the header). */
export function decodeRawData(input: Uint8Array | string): TronRawData {
  const bytes = typeof input === 'string' ? fromHex(input, 'raw_data_hex') : input;
  const fields = expectFields(readFields(bytes, 'Transaction.raw'), 'Transaction.raw', {
    1: { name: 'ref_block_bytes', wire: 'bytes' },
    4: { name: 'ref_block_hash', wire: 'bytes' },
    8: { name: 'expiration', wire: 'varint' },
    11: { name: 'contract', wire: 'bytes' },
    14: { name: 'timestamp', wire: 'varint' },
    18: { name: 'fee_limit', wire: 'varint' },
  });
  // expectFields refused a second `contract`: java-tron runs one contract a transaction.
  const contractBytes = bytesOf(fields, 11);
  if (contractBytes.length === 0) throw new TronTransactionError('Transaction.raw has no contract');
  const contractFields = expectFields(readFields(contractBytes, 'Transaction.Contract'), 'Transaction.Contract', {
    1: { name: 'type', wire: 'varint' },
    2: { name: 'parameter', wire: 'bytes' },
  });
  const typeNumber = Number(varintOf(contractFields, 1));
  const type = (Object.keys(CONTRACT_TYPES) as Array<TronContract['type']>).find((name) => CONTRACT_TYPES[name] === typeNumber);
  if (!type) throw new TronTransactionError(`contract type ${typeNumber} is not one this codec accepts (${Object.keys(CONTRACT_TYPES).join(', ')})`);
  const any = expectFields(readFields(bytesOf(contractFields, 2), 'google.protobuf.Any'), 'google.protobuf.Any', {
    1: { name: 'type_url', wire: 'bytes' },
    2: { name: 'value', wire: 'bytes' },
  });
  const typeUrl = new TextDecoder('utf-8', { fatal: true }).decode(bytesOf(any, 1));
  if (typeUrl !== TYPE_URL_PREFIX + type) throw new TronTransactionError(`a ${type} (type ${typeNumber}) whose parameter says it is "${typeUrl}"`);
  const raw: TronRawData = {
    contract: decodeContractValue(type, bytesOf(any, 2)),
    ref_block_bytes: hex(bytesOf(fields, 1)),
    ref_block_hash: hex(bytesOf(fields, 4)),
    expiration: safeNumber(varintOf(fields, 8), 'expiration'),
    timestamp: safeNumber(varintOf(fields, 14), 'timestamp'),
    fee_limit: safeNumber(varintOf(fields, 18), 'fee_limit'),
  };
  if (raw.ref_block_bytes.length !== 4) throw new TronTransactionError('ref_block_bytes must be 2 bytes');
  if (raw.ref_block_hash.length !== 16) throw new TronTransactionError('ref_block_hash must be 8 bytes');
  const again = encodeRawData(raw);
  if (again.length !== bytes.length || again.some((byte, i) => byte !== bytes[i])) {
    throw new TronTransactionError(
      'raw_data is not in canonical protobuf form (fields out of order or repeated, a default value written out, or a padded varint)',
    );
  }
  return raw;
}

function integer(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new TronTransactionError(`${what} must be a non-negative integer, not ${value}`);
  return BigInt(value);
}
function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TronTransactionError(`${what} ${value} is out of range`);
  return Number(value);
}

/** txID: sha256 of the raw_data bytes, hex. */
export function transactionId(raw: TronRawData | Uint8Array): string {
  return hex(sha256(raw instanceof Uint8Array ? raw : encodeRawData(raw)));
}

// ---------------------------------------------------------------------------------------------
// JSON as java-tron prints it (Util.printTransactionToJSON, JsonFormat, visible=false)

type Json = Record<string, unknown>;

/** A sun amount as java-tron prints an int64: a JSON number (a string only above 2^53, which JSON numbers cannot hold here). */
const jsonInt = (value: bigint): number | string => (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString());

function contractValueJson(contract: TronContract): Json {
  // JsonFormat prints only the fields that are set: zero, false, empty and BANDWIDTH are left out.
  const set = (entries: Array<[string, unknown]>) =>
    Object.fromEntries(entries.filter(([, value]) => value !== 0n && value !== 0 && value !== false && value !== '' && value !== 'BANDWIDTH'));
  switch (contract.type) {
    case 'TransferContract':
      return set([
        ['amount', jsonInt(contract.amount)],
        ['owner_address', contract.owner_address],
        ['to_address', contract.to_address],
      ]);
    case 'TriggerSmartContract':
      return set([
        ['data', contract.data],
        ['owner_address', contract.owner_address],
        ['contract_address', contract.contract_address],
        ['call_value', jsonInt(contract.call_value)],
      ]);
    case 'FreezeBalanceV2Contract':
      return set([
        ['owner_address', contract.owner_address],
        ['frozen_balance', jsonInt(contract.frozen_balance)],
        ['resource', contract.resource],
      ]);
    case 'DelegateResourceContract':
      return set([
        ['owner_address', contract.owner_address],
        ['resource', contract.resource],
        ['balance', jsonInt(contract.balance)],
        ['receiver_address', contract.receiver_address],
        ['lock', contract.lock],
        ['lock_period', contract.lock_period],
      ]);
    case 'UnDelegateResourceContract':
      return set([
        ['owner_address', contract.owner_address],
        ['resource', contract.resource],
        ['balance', jsonInt(contract.balance)],
        ['receiver_address', contract.receiver_address],
      ]);
  }
}

/** `raw_data` as java-tron's HTTP API prints it without `visible` (hex 41… addresses). */
export function rawDataToJson(raw: TronRawData): Json {
  return {
    contract: [{ parameter: { value: contractValueJson(raw.contract), type_url: TYPE_URL_PREFIX + raw.contract.type }, type: raw.contract.type }],
    ref_block_bytes: raw.ref_block_bytes,
    ref_block_hash: raw.ref_block_hash,
    expiration: raw.expiration,
    ...(raw.fee_limit ? { fee_limit: raw.fee_limit } : {}),
    timestamp: raw.timestamp,
  };
}

/**
 * `raw_data` from java-tron's JSON (hex or, with `visible`, base58 addresses), as strictly as
 * from bytes: a key this codec does not know is refused, not ignored.
 */
export function rawDataFromJson(json: unknown): TronRawData {
  const object = (value: unknown, what: string, keys: string[]): Json => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TronTransactionError(`${what} is not an object`);
    const unknown = Object.keys(value).filter((key) => !keys.includes(key));
    if (unknown.length > 0) throw new TronTransactionError(`${what} has fields this codec does not accept: ${unknown.join(', ')}`);
    return value as Json;
  };
  const raw = object(json, 'raw_data', ['contract', 'ref_block_bytes', 'ref_block_hash', 'expiration', 'timestamp', 'fee_limit']);
  if (!Array.isArray(raw.contract) || raw.contract.length !== 1) throw new TronTransactionError('raw_data.contract must hold exactly one contract');
  const entry = object(raw.contract[0], 'raw_data.contract[0]', ['parameter', 'type']);
  const type = entry.type as TronContract['type'];
  if (typeof type !== 'string' || !(type in CONTRACT_TYPES))
    throw new TronTransactionError(`contract type "${String(entry.type)}" is not one this codec accepts`);
  const parameter = object(entry.parameter, 'raw_data.contract[0].parameter', ['value', 'type_url']);
  if (parameter.type_url !== TYPE_URL_PREFIX + type) throw new TronTransactionError(`a ${type} whose parameter says it is "${String(parameter.type_url)}"`);
  const keys: Record<TronContract['type'], string[]> = {
    TransferContract: ['owner_address', 'to_address', 'amount'],
    TriggerSmartContract: ['owner_address', 'contract_address', 'call_value', 'data'],
    FreezeBalanceV2Contract: ['owner_address', 'frozen_balance', 'resource'],
    DelegateResourceContract: ['owner_address', 'resource', 'balance', 'receiver_address', 'lock', 'lock_period'],
    UnDelegateResourceContract: ['owner_address', 'resource', 'balance', 'receiver_address'],
  };
  const value = object(parameter.value, `${type} value`, keys[type]);
  const sun = (key: string): bigint => {
    const item = value[key] ?? 0;
    if ((typeof item !== 'number' && typeof item !== 'string') || !/^\d+$/.test(String(item)))
      throw new TronTransactionError(`${type}.${key} is not a whole number`);
    return BigInt(item);
  };
  const hexAddress = (key: string) => hex(addressBytes(String(value[key] ?? ''), `${type}.${key}`));
  const resourceOf = (): TronResource => {
    const item = value.resource ?? 'BANDWIDTH';
    if (item !== 'BANDWIDTH' && item !== 'ENERGY') throw new TronTransactionError(`${type}.resource "${String(item)}" is not BANDWIDTH or ENERGY`);
    return item;
  };
  const owner_address = hexAddress('owner_address');
  let contract: TronContract;
  switch (type) {
    case 'TransferContract':
      contract = { type, owner_address, to_address: hexAddress('to_address'), amount: sun('amount') };
      break;
    case 'TriggerSmartContract':
      contract = {
        type,
        owner_address,
        contract_address: hexAddress('contract_address'),
        call_value: sun('call_value'),
        data: hex(fromHex(String(value.data ?? ''), 'data')),
      };
      break;
    case 'FreezeBalanceV2Contract':
      contract = { type, owner_address, frozen_balance: sun('frozen_balance'), resource: resourceOf() };
      break;
    case 'DelegateResourceContract':
      if (value.lock !== undefined && typeof value.lock !== 'boolean') throw new TronTransactionError(`${type}.lock is not a boolean`);
      contract = {
        type,
        owner_address,
        resource: resourceOf(),
        balance: sun('balance'),
        receiver_address: hexAddress('receiver_address'),
        lock: value.lock === true,
        lock_period: Number(sun('lock_period')),
      };
      break;
    case 'UnDelegateResourceContract':
      contract = { type, owner_address, resource: resourceOf(), balance: sun('balance'), receiver_address: hexAddress('receiver_address') };
      break;
  }
  const int = (key: string): number => {
    const item = raw[key] ?? 0;
    if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) throw new TronTransactionError(`raw_data.${key} is not a non-negative integer`);
    return item;
  };
  return {
    contract,
    ref_block_bytes: hex(fromHex(String(raw.ref_block_bytes ?? ''), 'ref_block_bytes', 2)),
    ref_block_hash: hex(fromHex(String(raw.ref_block_hash ?? ''), 'ref_block_hash', 8)),
    expiration: int('expiration'),
    timestamp: int('timestamp'),
    fee_limit: int('fee_limit'),
  };
}

// ---------------------------------------------------------------------------------------------
// Signatures

/** The Tron address (base58check) whose key made `signature` over `txID`; throws when the signature is malformed. */
export function recoverSigner(txID: string, signature: string): string {
  const bytes = fromHex(signature, 'signature', 65);
  let v = bytes[64]!;
  if (v >= 27) v -= 27;
  if (v !== 0 && v !== 1) throw new TronTransactionError(`signature recovery byte ${bytes[64]} is not 0, 1, 27 or 28`);
  // java-tron accepts a high s (mainnet holds such signatures); ethers takes only the low one.
  // (r, n − s) with the other recovery id recovers the same key.
  let s = BigInt(`0x${hex(bytes.subarray(32, 64))}`);
  if (s > SECP256K1_N / 2n && s < SECP256K1_N) {
    s = SECP256K1_N - s;
    v ^= 1;
  }
  let parsed: Signature;
  try {
    parsed = Signature.from({ r: `0x${hex(bytes.subarray(0, 32))}`, s: `0x${s.toString(16).padStart(64, '0')}`, yParity: v as 0 | 1 });
  } catch (error) {
    throw new TronTransactionError(`malformed signature: ${(error as Error).message}`);
  }
  let publicKey: string;
  try {
    publicKey = SigningKey.recoverPublicKey(fromHex(txID, 'txID', 32), parsed);
  } catch (error) {
    throw new TronTransactionError(`no public key recovers from this signature: ${(error as Error).message}`);
  }
  return tronAddressFromAccountId(fromHex(computeAddress(publicKey), 'address'));
}

/** The Tron address (base58check) of a private key. */
export function tronAddressOfKey(privateKey: string): string {
  return tronAddressFromAccountId(fromHex(computeAddress(new SigningKey(privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`).publicKey), 'address'));
}

/** The owner (signer) a transaction's contract names, base58check. */
export function ownerOf(raw: TronRawData): string {
  return tronAddressFromAccountId(fromHex(raw.contract.owner_address, 'owner_address').subarray(1));
}

/** A signed transaction as java-tron's HTTP API takes and prints it (broadcasttransaction, gettransactionbyid). */
export interface SignedTronTransaction {
  txID: string;
  raw_data: Json;
  raw_data_hex: string;
  signature: string[];
}

/**
 * A received transaction, checked: raw_data_hex decodes (strictly), its txID is sha256 of it, its
 * raw_data JSON (when given) says the same as its bytes, and it has one signature. What is signed
 * is the bytes, so the bytes are what is returned.
 */
export function readSignedTransaction(transaction: { txID?: unknown; raw_data?: unknown; raw_data_hex?: unknown; signature?: unknown }): {
  txID: string;
  raw: TronRawData;
  rawDataHex: string;
  signature: string;
} {
  if (typeof transaction.raw_data_hex !== 'string') throw new TronTransactionError('raw_data_hex is missing');
  const bytes = fromHex(transaction.raw_data_hex, 'raw_data_hex');
  const raw = decodeRawData(bytes);
  const txID = transactionId(bytes);
  if (transaction.txID !== undefined && String(transaction.txID).toLowerCase() !== txID)
    throw new TronTransactionError(`txID ${String(transaction.txID)} is not sha256(raw_data_hex) ${txID}`);
  if (transaction.raw_data !== undefined) {
    const fromJson = encodeRawData(rawDataFromJson(transaction.raw_data));
    if (hex(fromJson) !== hex(bytes)) throw new TronTransactionError('raw_data says something other than raw_data_hex');
  }
  if (!Array.isArray(transaction.signature) || transaction.signature.length !== 1 || typeof transaction.signature[0] !== 'string')
    throw new TronTransactionError('a transaction needs exactly one signature');
  return { txID, raw, rawDataHex: hex(bytes), signature: transaction.signature[0] };
}

/**
 * The protobuf `Transaction` (1 raw_data, 2 signature, repeated) as a signed transaction travels
 * between nodes; its size (without `ret`) is what java-tron charges bandwidth for.
 */
export function encodeTransaction(rawDataHex: string, signatures: string[]): Uint8Array {
  const writer = new Writer().bytes(1, fromHex(rawDataHex, 'raw_data_hex'));
  for (const signature of signatures) writer.bytes(2, fromHex(signature, 'signature'));
  return writer.finish();
}

/** A serialized `Transaction` (raw_data and signatures; a `ret` or any other field is refused), strictly. */
export function decodeTransaction(input: Uint8Array | string): { txID: string; raw: TronRawData; rawDataHex: string; signatures: string[] } {
  const bytes = typeof input === 'string' ? fromHex(input, 'transaction') : input;
  const fields = readFields(bytes, 'Transaction');
  const rawFields = fields.filter((field) => field.number === 1);
  const other = fields.find((field) => field.number !== 1 && field.number !== 2);
  if (other) throw new TronTransactionError(`Transaction: field ${other.number} is not one this codec accepts`);
  if (rawFields.length !== 1 || !('bytes' in rawFields[0]!)) throw new TronTransactionError('Transaction: needs exactly one raw_data');
  const signatures = fields
    .filter((field) => field.number === 2)
    .map((field) => {
      if (!('bytes' in field)) throw new TronTransactionError('Transaction: a signature (field 2) has the wrong wire type');
      return hex(field.bytes);
    });
  const rawDataHex = hex(rawFields[0].bytes);
  const again = encodeTransaction(rawDataHex, signatures);
  if (hex(again) !== hex(bytes)) throw new TronTransactionError('Transaction is not in canonical protobuf form');
  return { txID: transactionId(rawFields[0].bytes), raw: decodeRawData(rawFields[0].bytes), rawDataHex, signatures };
}
