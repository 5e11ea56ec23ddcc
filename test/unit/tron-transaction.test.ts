import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tronAddressFromAccountId, tronAddressToHex } from '../../src/chains/tron/address';
import {
  decodeRawData,
  decodeTransaction,
  encodeRawData,
  encodeTransaction,
  ownerOf,
  rawDataFromJson,
  rawDataToJson,
  readSignedTransaction,
  recoverSigner,
  transactionId,
  tronAddressOfKey,
  TronTransactionError,
  type TronRawData,
} from '../../src/chains/tron/transaction';
import { signTransaction } from '../../dev/devnet/tron-signing';

const recorded = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tron', name), 'utf8'));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const base58 = (hex41: string) => tronAddressFromAccountId(Buffer.from(hex41.slice(2), 'hex'));

/**
 * Real signed java-tron transactions (test/fixtures/tron/README.md says where each is from): each
 * must decode, print back to the node's raw_data JSON, re-encode byte for byte, hash to its txID,
 * and its signature must recover to its owner.
 */
const realTransactions: Array<[string, { txID: string; raw_data: Record<string, unknown>; raw_data_hex: string; signature: string[] }]> = [
  ['mainnet TRX transfer (block 30864544)', recorded('getblockbynum-trx-transfer.json').transactions[0]],
  ['mainnet USDT transfer() (block 62686538), a high-s signature', recorded('getblockbynum-trc20-transfer.json').transactions[1]],
  ['mainnet TRX transfer (block 47964392)', recorded('getnowblock-mainnet.json').transactions[0]],
  ['Nile TRX transfer (docs-en, gettransactionbyid)', recorded('gettransactionbyid-trx-hex.json')],
];

describe('the Tron transaction codec, on real java-tron transactions', () => {
  it.each(realTransactions)('%s: decodes, re-encodes byte for byte, prints the same raw_data, hashes to its txID, recovers its owner', (_, transaction) => {
    const raw = decodeRawData(transaction.raw_data_hex);
    expect(hex(encodeRawData(raw))).toBe(transaction.raw_data_hex);
    expect(rawDataToJson(raw)).toEqual(transaction.raw_data);
    expect(hex(encodeRawData(rawDataFromJson(transaction.raw_data)))).toBe(transaction.raw_data_hex);
    expect(transactionId(raw)).toBe(transaction.txID);
    expect(recoverSigner(transaction.txID, transaction.signature[0]!)).toBe(ownerOf(raw));
    expect(readSignedTransaction(transaction)).toEqual({
      txID: transaction.txID,
      raw,
      rawDataHex: transaction.raw_data_hex,
      signature: transaction.signature[0],
    });
  });

  it('the USDT transfer reads as TriggerSmartContract: USDT, transfer(address,uint256), fee_limit 100 TRX', () => {
    const transaction = recorded('getblockbynum-trc20-transfer.json').transactions[1];
    const raw = decodeRawData(transaction.raw_data_hex);
    expect(raw).toEqual({
      contract: {
        type: 'TriggerSmartContract',
        owner_address: '418ca132af72e7864eee48eac163a1fb4028662091',
        contract_address: tronAddressToHex('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'),
        call_value: 0n,
        data: transaction.raw_data.contract[0].parameter.value.data,
      },
      ref_block_bytes: '8537',
      ref_block_hash: 'f373eda9e68b4dc1',
      expiration: 1718703903000,
      timestamp: 1718703844821,
      fee_limit: 100_000_000,
    });
    expect(ownerOf(raw)).toBe(base58('418ca132af72e7864eee48eac163a1fb4028662091'));
  });

  it('the visible form (base58 addresses) encodes to the same bytes', () => {
    const transaction = recorded('gettransactionbyid-trx-visible.json');
    expect(hex(encodeRawData(rawDataFromJson(transaction.raw_data)))).toBe(transaction.raw_data_hex);
    expect(recoverSigner(transaction.txID, transaction.signature[0])).toBe('TUoHaVjx7n5xz8LwPRDckgFrDWhMhuSuJM');
  });

  it.each(['delegateResource', 'unDelegateResource'] as const)(
    'wallet-cli %s on Nile: the printed raw_data (visible) encodes to its raw_data_hex; the signed transaction decodes, hashes to its txID, recovers its owner',
    (name) => {
      const example = recorded('wallet-cli-signed-transactions.json')[name];
      expect(hex(encodeRawData(rawDataFromJson(example.printed.raw_data)))).toBe(example.printed.raw_data_hex);
      const signed = decodeTransaction(example.signedTransactionHex);
      expect(signed.txID).toBe(example.txID);
      expect(hex(encodeTransaction(signed.rawDataHex, signed.signatures))).toBe(example.signedTransactionHex);
      expect(signed.raw.contract).toEqual({
        type: name === 'delegateResource' ? 'DelegateResourceContract' : 'UnDelegateResourceContract',
        owner_address: tronAddressToHex('TUoHaVjx7n5xz8LwPRDckgFrDWhMhuSuJM'),
        resource: 'ENERGY',
        balance: 1_000_000n,
        receiver_address: tronAddressToHex('TZ4UXDV5ZhNW7fb2AMSbgfAEZ7hWsnYS2g'),
        ...(name === 'delegateResource' ? { lock: false, lock_period: 0 } : {}),
      });
      expect(signed.signatures.map((signature) => recoverSigner(signed.txID, signature))).toEqual(['TUoHaVjx7n5xz8LwPRDckgFrDWhMhuSuJM']);
    },
  );

  it('a multi-signed transaction (Permission_id 2, two signatures) is refused: this codec signs and checks owner transactions only', () => {
    const { signedTransactionHex } = recorded('wallet-cli-signed-transactions.json').multiSignedSendCoin;
    expect(() => decodeTransaction(signedTransactionHex)).toThrow(/Transaction.Contract: field 5 is not one this codec accepts/);
  });

  it('a signature whose recovery byte is 27/28 (as some wallets write it) recovers the same owner', () => {
    const transaction = recorded('gettransactionbyid-trx-hex.json');
    const signature: string = transaction.signature[0];
    const v = parseInt(signature.slice(128), 16);
    expect(recoverSigner(transaction.txID, signature.slice(0, 128) + (v + 27).toString(16))).toBe('TPswDDCAWhJAZGdHPidFg5nEf8TkNToDX1');
  });
});

describe('the Tron transaction codec, built and signed here', () => {
  const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
  const owner = tronAddressOfKey(key);
  const receiver = 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV';
  const base = { ref_block_bytes: '1a2b', ref_block_hash: '0011223344556677', expiration: 1_700_000_060_000, timestamp: 1_700_000_000_000, fee_limit: 0 };
  const contracts: TronRawData['contract'][] = [
    { type: 'TransferContract', owner_address: tronAddressToHex(owner)!, to_address: tronAddressToHex(receiver)!, amount: 1n },
    {
      type: 'TriggerSmartContract',
      owner_address: tronAddressToHex(owner)!,
      contract_address: tronAddressToHex('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t')!,
      call_value: 0n,
      data: 'a9059cbb' + '0'.repeat(24) + tronAddressToHex(receiver)!.slice(2) + (5_000_000).toString(16).padStart(64, '0'),
    },
    { type: 'FreezeBalanceV2Contract', owner_address: tronAddressToHex(owner)!, frozen_balance: 10_000_000n, resource: 'ENERGY' },
    {
      type: 'DelegateResourceContract',
      owner_address: tronAddressToHex(owner)!,
      resource: 'ENERGY',
      balance: 2n ** 62n,
      receiver_address: tronAddressToHex(receiver)!,
      lock: true,
      lock_period: 28_800,
    },
    {
      type: 'UnDelegateResourceContract',
      owner_address: tronAddressToHex(owner)!,
      resource: 'BANDWIDTH',
      balance: 1_000_000n,
      receiver_address: tronAddressToHex(receiver)!,
    },
  ];

  it.each(contracts.map((contract) => [contract.type, contract] as const))('%s: sign, then read back exactly what was signed', (_, contract) => {
    const raw: TronRawData = { ...base, contract, fee_limit: contract.type === 'TriggerSmartContract' ? 30_000_000 : 0 };
    const signed = signTransaction(raw, key);
    expect(signed.signature[0]).toMatch(/^[0-9a-f]{128}0[01]$/);
    expect(readSignedTransaction(signed)).toEqual({ txID: signed.txID, raw, rawDataHex: signed.raw_data_hex, signature: signed.signature[0] });
    expect(recoverSigner(signed.txID, signed.signature[0]!)).toBe(owner);
    expect(rawDataFromJson(JSON.parse(JSON.stringify(signed.raw_data)))).toEqual(raw);
  });

  const transfer: TronRawData = { ...base, contract: contracts[0]! };
  const bytes = hex(encodeRawData(transfer));

  it('another key recovers as another address; a malformed signature is refused', () => {
    const signed = signTransaction(transfer, key);
    const other = signTransaction(transfer, '0x' + '11'.repeat(32));
    expect(recoverSigner(signed.txID, other.signature[0]!)).not.toBe(owner);
    expect(() => recoverSigner(signed.txID, signed.signature[0]!.slice(0, 128) + '05')).toThrow(TronTransactionError);
    expect(() => recoverSigner(signed.txID, 'ab'.repeat(64))).toThrow(/65 bytes/);
    expect(() => readSignedTransaction({ ...signed, signature: [] })).toThrow(/exactly one signature/);
  });

  it('refuses a txID, or raw_data JSON, that says something other than raw_data_hex', () => {
    const signed = signTransaction(transfer, key);
    expect(() => readSignedTransaction({ ...signed, txID: 'ab'.repeat(32) })).toThrow(/is not sha256/);
    const lying = JSON.parse(JSON.stringify(signed.raw_data));
    lying.contract[0].parameter.value.amount = 1_000_000;
    expect(() => readSignedTransaction({ ...signed, raw_data: lying })).toThrow(/something other than raw_data_hex/);
    expect(() => rawDataFromJson({ ...signed.raw_data, data: '6869' })).toThrow(/fields this codec does not accept: data/);
  });

  it('strict decoding: unknown fields, unknown contract types, a mismatched type_url, two contracts and non-canonical bytes are refused', () => {
    const refuses = (hexBytes: string, message: RegExp) => expect(() => decodeRawData(hexBytes)).toThrow(message);
    // bytes: ref_block_bytes, ref_block_hash, expiration (6-byte varint), then the contract (field 11, one length byte), then timestamp.
    const contractAt = '0a021a2b22080011223344556677'.length + 2 + 12;
    expect(bytes.slice(contractAt, contractAt + 2)).toBe('5a');
    const contractField = bytes.slice(contractAt, contractAt + 4 + parseInt(bytes.slice(contractAt + 2, contractAt + 4), 16) * 2);
    const timestampField = bytes.slice(contractAt + contractField.length);
    expect(contractField.slice(4, 8)).toBe('0801'); // type TransferContract
    const withType = (type: string) => bytes.replace(contractField, contractField.slice(0, 4) + '08' + type + contractField.slice(8));
    // A memo (Transaction.raw field 10, "data"), ref_block_num (field 3), which java-tron has but sweeps never set.
    refuses(bytes + '52026869', /field 10 is not one this codec accepts/);
    refuses('1801' + bytes, /field 3 is not one this codec accepts/);
    // A TransferAssetContract (type 2) and an unknown type 99.
    refuses(withType('02'), /contract type 2 is not one this codec accepts/);
    refuses(withType('63'), /contract type 99 is not one this codec accepts/);
    // The type says TransferContract, the Any's type_url something else.
    refuses(bytes.replace(Buffer.from('TransferContract').toString('hex'), Buffer.from('TransferContracu').toString('hex')), /whose parameter says/);
    // Two contracts.
    refuses(bytes.replace(contractField, contractField + contractField), /contract \(field 11\) appears more than once/);
    // Fields out of order: timestamp before the contract.
    refuses(bytes.slice(0, contractAt) + timestampField + contractField, /canonical/);
    // A default written out (fee_limit 0) and a padded varint (fee_limit 1 as 0x81 0x00).
    refuses(bytes + '900100', /canonical/);
    refuses(bytes + '90018100', /canonical/);
    // A truncated message, and an int64 above 2^63 (negative to java-tron).
    refuses(bytes.slice(0, -2), /truncated|runs past/);
    refuses(bytes + '9001ffffffffffffffffff01', /negative int64/);
    expect(() => encodeRawData({ ...transfer, contract: { ...contracts[0]!, amount: -1n } as TronRawData['contract'] })).toThrow(/non-negative/);
  });

  it('an unknown field inside a contract is refused', () => {
    const value = '0a15' + tronAddressToHex(owner)! + '1215' + tronAddressToHex(receiver)! + '1801' + '4801';
    const any = '0a2d' + Buffer.from('type.googleapis.com/protocol.TransferContract').toString('hex') + '12' + (value.length / 2).toString(16) + value;
    const contract = '0801' + '12' + (any.length / 2).toString(16) + any;
    const raw = '0a021a2b2208001122334455667740e0a6c9b3bc31' + '5a' + (contract.length / 2).toString(16) + contract;
    expect(() => decodeRawData(raw)).toThrow(/TransferContract: field 9 is not one this codec accepts/);
  });
});
