import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { freePort } from '../../dev/tools/ports';
import { tronAddressToHex } from '../../src/chains/tron/address';
import { TronAdapter } from '../../src/chains/tron/tron.adapter';
import { tronAddressOfKey } from '../../src/chains/tron/transaction';

const recorded = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tron', name), 'utf8'));

/** The JSON type of a value, as java-tron's answers are compared: 'object', 'array', 'string', 'number', 'boolean'. */
const typeOf = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

/**
 * Every field the stand-in writes is one java-tron writes, with the same JSON type, at the same
 * place (recursively; an array's items compared with the recorded first item). The stand-in may
 * leave fields out; it may not invent or retype one.
 */
function expectShapeWithin(standIn: unknown, real: unknown, at = '$'): void {
  expect([at, typeOf(standIn)]).toEqual([at, typeOf(real)]);
  if (Array.isArray(standIn) && Array.isArray(real) && real.length > 0) standIn.forEach((item, i) => expectShapeWithin(item, real[0], `${at}[${i}]`));
  if (typeOf(standIn) === 'object') {
    for (const [key, value] of Object.entries(standIn as Record<string, unknown>)) {
      expect([`${at}.${key}`, key in (real as object)]).toEqual([`${at}.${key}`, true]);
      expectShapeWithin(value, (real as Record<string, unknown>)[key], `${at}.${key}`);
    }
  }
}

/** The fields inflow's Tron adapter reads are present in both. */
function expectFields(value: unknown, paths: string[]): void {
  for (const fieldPath of paths) {
    const found = fieldPath.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], value);
    expect([fieldPath, found !== undefined]).toEqual([fieldPath, true]);
  }
}

/** The Tron devnet stand-in answers the adapter's calls as java-tron does, checked against recorded java-tron responses. */
describe('the Tron devnet stand-in, against recorded java-tron responses', () => {
  let tron: RunningTronDevnet;
  const call = async (endpoint: string, body: unknown = {}) =>
    (await fetch(`${tron.rpcUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>;
  const transfer = async (body: Record<string, unknown>) => (await call('/devnet/transfer', body)).txid as string;

  beforeAll(async () => {
    tron = await startTronDevnet({ port: await freePort() });
    tron.mine(2);
  });

  afterAll(async () => {
    await tron?.stop();
  });

  it('an empty block: as getblockbynum writes one, without a `transactions` key; no transaction infos', async () => {
    const block = await call('/wallet/getblockbynum', { num: 1 });
    expectShapeWithin(block, recorded('getblockbynum-empty.json'));
    expect(block).not.toHaveProperty('transactions');
    expect(await call('/wallet/gettransactioninfobyblocknum', { num: 1 })).toEqual(recorded('gettransactioninfobyblocknum-empty.json'));
    expect(await call('/wallet/getblockbynum', { num: 10_000 })).toEqual({});
    expectShapeWithin(await call('/wallet/getnowblock'), recorded('getnowblock.json'));
    expectShapeWithin(await call('/walletsolidity/getnowblock'), recorded('walletsolidity-getnowblock.json'));
  });

  it('a TRX transfer: the block transaction and its info as java-tron writes them', async () => {
    const txid = await transfer({ to: 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', amount: '50000000', currency: 'TRX' });
    tron.mine();
    const block = await call('/wallet/getblockbynum', { num: tron.head() });
    const real = recorded('getblockbynum-trx-transfer.json');
    expectShapeWithin(block, real);
    for (const value of [block, real]) {
      expectFields(value, ['blockID', 'block_header.raw_data.number', 'transactions']);
      expectFields(value.transactions[0], ['txID', 'ret', 'raw_data.contract']);
      expectFields(value.transactions[0].raw_data.contract[0], [
        'type',
        'parameter.value.amount',
        'parameter.value.owner_address',
        'parameter.value.to_address',
      ]);
    }
    expect(block.transactions[0].raw_data.contract[0].parameter.value.to_address).toBe('4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a');
    const info = await call('/wallet/gettransactioninfobyid', { value: txid });
    expectShapeWithin(info, recorded('gettransactioninfobyid-trx-transfer.json'));
    expect(info.receipt).not.toHaveProperty('result');
  });

  it('a TRC-20 transfer: TriggerSmartContract in the block, its Transfer log and SUCCESS receipt in the info', async () => {
    const txid = await transfer({ to: 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt', amount: '532079999', currency: 'USDT' });
    tron.mine();
    const block = await call('/wallet/getblockbynum', { num: tron.head() });
    const realTransaction = recorded('getblockbynum-trc20-transfer.json').transactions[1];
    expectShapeWithin(block.transactions[0], realTransaction);
    expectFields(block.transactions[0].raw_data.contract[0], [
      'type',
      'parameter.value.contract_address',
      'parameter.value.owner_address',
      'parameter.value.data',
    ]);
    const info = await call('/wallet/gettransactioninfobyid', { value: txid });
    const real = recorded('gettransactioninfobyid-trc20.json');
    // Today's infos carry `fee` (the 2021 recording has none to show): the shape is checked against the 2024 one.
    expectShapeWithin(info, recorded('gettransactioninfobyid-trc20-success-2024.json'));
    for (const value of [info, real]) expectFields(value, ['id', 'blockNumber', 'receipt.result', 'log']);
    // The recorded mainnet transfer's log, topic for topic, from the same recipient and amount.
    expect(info.log[0].topics[0]).toBe(real.log[0].topics[0]);
    expect(info.log[0].topics[2]).toBe(real.log[0].topics[2]);
    expect(info.log[0].data).toBe(real.log[0].data);
    expect(info.log[0].address).toMatch(/^[0-9a-f]{40}$/);
    expect(await call('/wallet/gettransactioninfobyblocknum', { num: tron.head() })).toEqual([info]);
  });

  it('a failed TRC-20 call: no log, `result: "FAILED"`, a receipt that is not SUCCESS', async () => {
    const txid = await transfer({ to: 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt', amount: '1', currency: 'USDT', fail: true });
    tron.mine();
    const info = await call('/wallet/gettransactioninfobyid', { value: txid });
    expectShapeWithin(info, recorded('gettransactioninfobyid-trc20-failed.json'));
    expect(info).toMatchObject({ result: 'FAILED', receipt: { result: 'REVERT' } });
    expect(info).not.toHaveProperty('log');
    const block = await call('/wallet/getblockbynum', { num: tron.head() });
    expect(block.transactions[0].ret).toEqual([{ contractRet: 'REVERT' }]);
  });

  it('TRX sent through a contract: a TriggerSmartContract with call_value in the block, the internal transaction that pays in its info', async () => {
    const txid = await transfer({ to: 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', amount: '700000', currency: 'TRX', viaContract: true });
    tron.mine();
    const block = await call('/wallet/getblockbynum', { num: tron.head() });
    const parameters = block.transactions[0].raw_data.contract[0].parameter.value;
    expect(parameters).toMatchObject({ call_value: 700000, contract_address: tronAddressToHex(tron.forwarderAddress) });
    // java-tron leaves call_value out when it is 0, as in the recorded USDT call; the rest is that call's shape.
    delete parameters.call_value;
    expectShapeWithin(block.transactions[0], recorded('getblockbynum-trc20-transfer.json').transactions[1]);

    const info = await call('/wallet/gettransactioninfobyid', { value: txid });
    // The recorded info whose contract pays TRX; its first internal transaction carries none (`callValueInfo: [{}]`).
    const real = recorded('gettransactioninfobyblocknum-internal-trx.json')[1];
    expectShapeWithin(info, { ...real, internal_transactions: [real.internal_transactions[1]] });
    expect(info.receipt.result).toBe('SUCCESS');
    expect(info.internal_transactions).toEqual([
      {
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        caller_address: tronAddressToHex(tron.forwarderAddress),
        transferTo_address: '4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a',
        callValueInfo: [{ callValue: 700000 }],
        note: Buffer.from('call').toString('hex'),
      },
    ]);
  });

  it('TRX through a contract call that reverts: REVERT in the block and the info, the internal transaction `rejected`', async () => {
    const txid = await transfer({ to: 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', amount: '1', currency: 'TRX', viaContract: true, fail: true });
    tron.mine();
    const { internal_transactions: internals, ...info } = await call('/wallet/gettransactioninfobyid', { value: txid });
    expectShapeWithin(info, recorded('gettransactioninfobyid-trc20-failed.json'));
    expect(info).toMatchObject({ result: 'FAILED', receipt: { result: 'REVERT' } });
    // `rejected` is Tron.proto's InternalTransaction field 6, printed only when true (no recorded answer shows one).
    expect(internals).toEqual([expect.objectContaining({ rejected: true, callValueInfo: [{ callValue: 1 }] })]);
    expect((await call('/wallet/getblockbynum', { num: tron.head() })).transactions[0].ret).toEqual([{ contractRet: 'REVERT' }]);
    expect(
      (
        await fetch(`${tron.rpcUrl}/devnet/transfer`, {
          method: 'POST',
          body: JSON.stringify({ to: 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', amount: '1', currency: 'USDT', viaContract: true }),
        })
      ).status,
    ).toBe(400);
  });

  it('the Tron adapter finds TRX sent through a contract as an internal transfer, and nothing from a call that reverted', async () => {
    const adapter = new TronAdapter({ rpcUrl: tron.rpcUrl, nativeCurrency: 'TRX', tokens: [{ currency: 'USDT', address: tron.usdtAddress }] });
    const to = 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt';
    const start = tron.head() + 1;
    const paid = tron.transfer(to, 5n, 'TRX', { viaContract: true });
    tron.transfer(to, 6n, 'TRX', { viaContract: true, fail: true });
    tron.mine();
    const { blockID } = await call('/wallet/getblockbynum', { num: tron.head() });
    const at = { blockNumber: tron.head(), blockHash: blockID };
    const everyone = async (recipients: string[]) => new Set(recipients);
    expect((await adapter.transfersTo(start, tron.head(), everyone)).transfers).toEqual([
      { transactionHash: paid, logIndex: -2, ...at, from: tron.forwarderAddress, to, amount: '5', currency: 'TRX' },
    ]);
    expect(await adapter.inclusions([{ transactionHash: paid, logIndex: -2, currency: 'TRX', to, amount: '5' }])).toEqual([
      { ...at, pays: { currency: 'TRX', to, amount: '5' } },
    ]);
  });

  it('an address that received only USDT has no account (none to getaccount, nothing it can send) until TRX activates it', async () => {
    const address = tronAddressOfKey(Wallet.createRandom().privateKey);
    tron.transfer(address, 7_000_000n, 'USDT');
    tron.mine();
    expect(await call('/wallet/getaccount', { address, visible: true })).toEqual({});
    expect(await call('/wallet/getaccountresource', { address, visible: true })).toEqual({});
    // The tokens are the contract's to say: balanceOf answers them.
    const balance = await call('/wallet/triggerconstantcontract', {
      owner_address: address,
      contract_address: tron.usdtAddress,
      function_selector: 'balanceOf(address)',
      parameter: tronAddressToHex(address)!.slice(2).padStart(64, '0'),
      visible: true,
    });
    expect(BigInt(`0x${balance.constant_result[0]}`)).toBe(7_000_000n);
    // java-tron refuses to build a transaction from an address without an account.
    const built = await call('/wallet/createtransaction', { owner_address: address, to_address: tron.fundedAddress, amount: 1, visible: true });
    expect(JSON.stringify(built)).toMatch(/not exists|no OwnerAccount/);
    tron.transfer(address, 1n, 'TRX');
    tron.mine();
    expect(await call('/wallet/getaccount', { address, visible: true })).toMatchObject({ balance: 1, create_time: expect.any(Number) });
  });

  it('getblockbylimitnext: blocks [startNum, endNum), at most 100', async () => {
    tron.mine(150);
    const answer = await call('/wallet/getblockbylimitnext', { startNum: 1, endNum: 151 });
    // The recorded page holds a TRC-10 transfer, which the stand-in never makes: the envelope is compared.
    const envelope = (value: any) => ({ block: value.block.map(({ transactions: _, ...block }: any) => block) });
    expectShapeWithin(envelope(answer), envelope(recorded('getblockbylimitnext.json')));
    expect(answer.block.map((block: any) => block.block_header.raw_data.number)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('/devnet/resend mines a transaction a reorg dropped again with the same txID: as it was, failing, or paying less', async () => {
    const customer = 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV';
    const usdt = await transfer({ to: customer, amount: '7000000', currency: 'USDT' });
    const trx = await transfer({ to: customer, amount: '3000000', currency: 'TRX' });
    const other = await transfer({ to: customer, amount: '5000000', currency: 'USDT' });
    tron.mine();
    await call('/devnet/reorg', { depth: 1, drop: [usdt, trx, other] });
    expect(await call('/wallet/gettransactioninfobyid', { value: usdt })).toEqual({});
    expect(await call('/devnet/resend', { txID: 'ab'.repeat(32) })).toHaveProperty('Error');
    expect(await call('/devnet/resend', { txID: trx, paid: '1' })).toHaveProperty('Error'); // paying less is for TRC-20 transfers

    expect(await call('/devnet/resend', { txID: usdt, paid: '2500000' })).toEqual({ result: true, txid: usdt });
    expect(await call('/devnet/resend', { txID: trx })).toEqual({ result: true, txid: trx });
    expect(await call('/devnet/resend', { txID: other, fail: true })).toEqual({ result: true, txid: other });
    expect(await call('/devnet/resend', { txID: trx })).toHaveProperty('Error'); // already in the mempool
    tron.mine();

    const lessInfo = await call('/wallet/gettransactioninfobyid', { value: usdt });
    expect(lessInfo.receipt.result).toBe('SUCCESS');
    expect(BigInt(`0x${lessInfo.log[0].data}`)).toBe(2_500_000n);
    // The call's data is the signed transaction's, unchanged: only what the contract did differs.
    expect((await call('/wallet/gettransactionbyid', { value: usdt })).raw_data.contract[0].parameter.value.data).toMatch(/6acfc0$/);
    expect((await call('/wallet/gettransactionbyid', { value: trx })).ret[0].contractRet).toBe('SUCCESS');
    const failedInfo = await call('/wallet/gettransactioninfobyid', { value: other });
    expect([failedInfo.receipt.result, failedInfo.log]).toEqual(['REVERT', undefined]);
    expect((await call('/wallet/gettransactionbyid', { value: other })).ret[0].contractRet).toBe('REVERT');
  });
});
