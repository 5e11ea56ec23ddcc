import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { startTronDevnet, TRON_FUNDED_PRIVATE_KEY, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { freePort } from '../../dev/tools/ports';
import { tronAddressToHex } from '../../src/chains/tron/address';
import { encodeRawData, rawDataFromJson, rawDataToJson, transactionId, tronAddressOfKey, type TronRawData } from '../../src/chains/tron/transaction';
import { signTransactionId } from '../../dev/devnet/tron-signing';
import { TronAdapter } from '../../src/chains/tron/tron.adapter';
import { tronOracle } from '../helpers/tron-oracle';

/**
 * Signed transactions on the Tron devnet stand-in, through java-tron's endpoints only: built by
 * the node (createtransaction, triggersmartcontract, …), signed here with the codec, broadcast,
 * mined; the oracle is the stand-in's own account state (getaccount, getaccountresource, USDT
 * balanceOf through triggerconstantcontract) and its transaction infos.
 */
describe('the Tron devnet stand-in takes signed transactions as java-tron does', () => {
  let tron: RunningTronDevnet;
  let stateFile: string;
  let port: number;
  const funded = { key: TRON_FUNDED_PRIVATE_KEY, address: '' };
  const sender = Wallet.createRandom();
  const senderAddress = tronAddressOfKey(sender.privateKey);
  const receiver = tronAddressOfKey(Wallet.createRandom().privateKey);
  let energyFee: number;

  const { call, trxOf: trx, usdtOf: usdt } = tronOracle(() => tron);
  const sign = (transaction: any, key: string) => ({ ...transaction, signature: [signTransactionId(transaction.txID, key)] });
  const broadcast = (transaction: unknown) => call('/wallet/broadcasttransaction', transaction);
  const text = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');
  /** Build (the node), sign (here), broadcast and mine a transaction; returns the broadcast's answer and the mined info. */
  const send = async (endpoint: string, body: Record<string, unknown>, key: string) => {
    const built = await call(endpoint, { ...body, visible: true });
    const transaction = endpoint === '/wallet/triggersmartcontract' ? built.transaction : built;
    expect(transaction?.txID).toMatch(/^[0-9a-f]{64}$/);
    const answer = await broadcast(sign(transaction, key));
    tron.mine();
    return { answer, info: await call('/wallet/gettransactioninfobyid', { value: transaction.txID }), transaction };
  };
  const usdtTransfer = (from: string, to: string, amount: bigint, feeLimit = 100_000_000) => ({
    owner_address: from,
    contract_address: tron.usdtAddress,
    function_selector: 'transfer(address,uint256)',
    parameter: tronAddressToHex(to)!.slice(2).padStart(64, '0') + amount.toString(16).padStart(64, '0'),
    fee_limit: feeLimit,
  });

  beforeAll(async () => {
    stateFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-tron-signing-')), 'tron-devnet.json');
    port = await freePort();
    tron = await startTronDevnet({ port, stateFile });
    funded.address = tron.fundedAddress;
    tron.mine(2);
    const parameters = (await call('/wallet/getchainparameters')).chainParameter as Array<{ key: string; value: number }>;
    energyFee = parameters.find((parameter) => parameter.key === 'getEnergyFee')!.value;
    expect(parameters.find((parameter) => parameter.key === 'getTransactionFee')!.value).toBe(1000);
  });

  afterAll(async () => {
    await tron?.stop();
  });

  it('a signed TRX transfer to a new account is mined and credited; the sender pays the amount, 0.1 TRX for the account and 1 TRX to create it', async () => {
    expect(tronAddressOfKey(TRON_FUNDED_PRIVATE_KEY)).toBe(funded.address);
    const before = await trx(funded.address);
    expect(await call('/wallet/getaccount', { address: senderAddress })).toEqual({});
    const { answer, info, transaction } = await send(
      '/wallet/createtransaction',
      { owner_address: funded.address, to_address: senderAddress, amount: 500_000_000 },
      funded.key,
    );
    expect(answer).toEqual({ result: true, txid: transaction.txID });
    // What the node built is what the codec reads: txID = sha256(raw_data_hex), the JSON the bytes' own.
    expect(transactionId(encodeRawData(rawDataFromJson(transaction.raw_data)))).toBe(transaction.txID);
    expect(await trx(senderAddress)).toBe(500_000_000n);
    expect(info).toMatchObject({ id: transaction.txID, fee: 1_100_000, receipt: { net_fee: 100_000 } });
    expect(await trx(funded.address)).toBe(before - 500_000_000n - 1_100_000n);
    const mined = await call('/wallet/gettransactionbyid', { value: transaction.txID });
    expect(mined).toMatchObject({ txID: transaction.txID, raw_data_hex: transaction.raw_data_hex, ret: [{ contractRet: 'SUCCESS' }] });
  });

  it('a signed TRC-20 transfer is mined and credited, its energy burned at the energy price (about 130k to a new holder, 65k to a holder), and the Tron adapter finds it', async () => {
    tron.transfer(senderAddress, 10_000_000n, 'USDT');
    tron.mine();
    expect(await usdt(senderAddress)).toBe(10_000_000n);
    const start = tron.head() + 1;
    const trxBefore = await trx(senderAddress);
    const estimate = await call('/wallet/triggerconstantcontract', { ...usdtTransfer(senderAddress, receiver, 4_000_000n), visible: true });
    expect(estimate).toMatchObject({ result: { result: true }, energy_used: 130_285 });

    const first = await send('/wallet/triggersmartcontract', usdtTransfer(senderAddress, receiver, 4_000_000n), sender.privateKey);
    expect(first.answer).toEqual({ result: true, txid: first.transaction.txID });
    expect(await usdt(receiver)).toBe(4_000_000n);
    expect(await usdt(senderAddress)).toBe(6_000_000n);
    // No stake: the energy is all burned; the bandwidth (345 bytes) comes from the free 600 a day.
    expect(first.info.receipt).toEqual({ energy_fee: 130_285 * energyFee, energy_usage_total: 130_285, net_usage: 345, result: 'SUCCESS' });
    expect(first.info.fee).toBe(130_285 * energyFee);
    expect(await trx(senderAddress)).toBe(trxBefore - BigInt(first.info.fee));

    const second = await send('/wallet/triggersmartcontract', usdtTransfer(senderAddress, receiver, 1_000_000n), sender.privateKey);
    // The receiver holds USDT now: about half the energy. The free bandwidth left (255) is too little: 345 bytes burned.
    expect(second.info.receipt).toEqual({ energy_fee: 64_285 * energyFee, energy_usage_total: 64_285, net_fee: 345_000, result: 'SUCCESS' });
    expect(second.info.fee).toBe(64_285 * energyFee + 345_000);
    expect(await usdt(receiver)).toBe(5_000_000n);

    const adapter = new TronAdapter({ rpcUrl: tron.rpcUrl, nativeCurrency: 'TRX', tokens: [{ currency: 'USDT', address: tron.usdtAddress }] });
    const found = await adapter.transfersTo(start, tron.head(), async (recipients) => new Set(recipients.filter((to) => to === receiver)));
    expect(found.transfers.map(({ transactionHash, to, amount, currency, from }) => ({ transactionHash, to, amount, currency, from }))).toEqual([
      { transactionHash: first.transaction.txID, to: receiver, amount: '4000000', currency: 'USDT', from: senderAddress },
      { transactionHash: second.transaction.txID, to: receiver, amount: '1000000', currency: 'USDT', from: senderAddress },
    ]);
  });

  it("refuses, with java-tron's codes, a bad signature, a wrong signer, an expired transaction, an unknown reference block and a sender short of TRX; nothing moves", async () => {
    const balances = async () => [await trx(senderAddress), await trx(receiver), await usdt(receiver)];
    const before = await balances();
    const built = await call('/wallet/createtransaction', { owner_address: senderAddress, to_address: receiver, amount: 1_000_000, visible: true });
    const refusal = async (transaction: unknown) => {
      const answer = await broadcast(transaction);
      return { code: answer.code, message: text(answer.message ?? '') };
    };

    const signed = sign(built, sender.privateKey);
    const corrupted = {
      ...signed,
      signature: [signed.signature[0].slice(0, 10) + (signed.signature[0][10] === '0' ? '1' : '0') + signed.signature[0].slice(11)],
    };
    expect(await refusal(corrupted)).toEqual({ code: 'SIGERROR', message: expect.stringMatching(/^Validate signature error: /) });
    expect(await refusal(sign(built, TRON_FUNDED_PRIVATE_KEY))).toEqual({
      code: 'SIGERROR',
      message: expect.stringContaining(`is signed by ${funded.address} but it is not contained of permission.`),
    });

    const raw = rawDataFromJson(built.raw_data);
    const signRaw = (changed: TronRawData) => {
      const bytes = encodeRawData(changed);
      const txID = transactionId(bytes);
      return {
        txID,
        raw_data: rawDataToJson(changed),
        raw_data_hex: Buffer.from(bytes).toString('hex'),
        signature: [signTransactionId(txID, sender.privateKey)],
      };
    };
    const head = await call('/wallet/getnowblock');
    expect(await refusal(signRaw({ ...raw, expiration: head.block_header.raw_data.timestamp - 1_000 }))).toEqual({
      code: 'TRANSACTION_EXPIRATION_ERROR',
      message: 'Transaction expired',
    });
    expect(await refusal(signRaw({ ...raw, ref_block_hash: 'ab'.repeat(8) }))).toEqual({ code: 'TAPOS_ERROR', message: 'Tapos check error.' });
    const tooMuch = await call('/wallet/createtransaction', { owner_address: senderAddress, to_address: receiver, amount: 1_000_000_000_000, visible: true });
    expect(tooMuch.Error).toMatch(/ContractValidateException : Validate TransferContract error, balance is not sufficient\./);
    expect(await refusal(signRaw({ ...raw, contract: { ...raw.contract, amount: 1_000_000_000_000n } as TronRawData['contract'] }))).toEqual({
      code: 'CONTRACT_VALIDATE_ERROR',
      message: 'Contract validate error : Validate TransferContract error, balance is not sufficient.',
    });
    tron.mine();
    expect(await balances()).toEqual(before);
  });

  it('energy and bandwidth delegated from a staked account: the next transfer burns no TRX; undelegated, the burn is energy × the energy price', async () => {
    await send('/wallet/freezebalancev2', { owner_address: funded.address, frozen_balance: 100_000_000_000, resource: 'ENERGY' }, funded.key);
    await send('/wallet/freezebalancev2', { owner_address: funded.address, frozen_balance: 10_000_000_000, resource: 'BANDWIDTH' }, funded.key);
    const staked = await call('/wallet/getaccount', { address: funded.address, visible: true });
    expect(staked.frozenV2).toEqual([{ amount: 10_000_000_000 }, { type: 'ENERGY', amount: 100_000_000_000 }, { type: 'TRON_POWER' }]);
    const delegated = await send(
      '/wallet/delegateresource',
      { owner_address: funded.address, receiver_address: senderAddress, balance: 20_000_000_000, resource: 'ENERGY' },
      funded.key,
    );
    expect(delegated.answer.result).toBe(true);
    await send(
      '/wallet/delegateresource',
      { owner_address: funded.address, receiver_address: senderAddress, balance: 2_000_000_000, resource: 'BANDWIDTH' },
      funded.key,
    );
    expect(await call('/wallet/getaccountresource', { address: senderAddress, visible: true })).toMatchObject({ EnergyLimit: 200_000, NetLimit: 2_000 });
    expect((await call('/wallet/getaccount', { address: senderAddress, visible: true })).account_resource).toMatchObject({
      acquired_delegated_frozenV2_balance_for_energy: 20_000_000_000,
    });

    const trxBefore = await trx(senderAddress);
    const covered = await send('/wallet/triggersmartcontract', usdtTransfer(senderAddress, receiver, 1_000_000n), sender.privateKey);
    expect(covered.info.receipt).toEqual({ energy_usage: 64_285, energy_usage_total: 64_285, net_usage: 345, result: 'SUCCESS' });
    expect(covered.info).not.toHaveProperty('fee');
    expect(await trx(senderAddress)).toBe(trxBefore);
    expect(await call('/wallet/getaccountresource', { address: senderAddress, visible: true })).toMatchObject({ EnergyUsed: 64_285, NetUsed: 345 });

    // A locked-free delegation can be taken back at once.
    await send(
      '/wallet/undelegateresource',
      { owner_address: funded.address, receiver_address: senderAddress, balance: 20_000_000_000, resource: 'ENERGY' },
      funded.key,
    );
    expect(await call('/wallet/getaccountresource', { address: senderAddress, visible: true })).not.toHaveProperty('EnergyLimit');
    const burned = await send('/wallet/triggersmartcontract', usdtTransfer(senderAddress, receiver, 1_000_000n), sender.privateKey);
    expect(burned.info.receipt).toEqual({ energy_fee: 64_285 * energyFee, energy_usage_total: 64_285, net_usage: 345, result: 'SUCCESS' });
    expect(burned.info.fee).toBe(64_285 * energyFee);
    expect(await trx(senderAddress)).toBe(trxBefore - BigInt(64_285 * energyFee));
    // Delegating more than is staked is refused as java-tron refuses it.
    const tooMuch = await call('/wallet/delegateresource', {
      owner_address: funded.address,
      receiver_address: senderAddress,
      balance: 1_000_000_000_000,
      resource: 'ENERGY',
      visible: true,
    });
    expect(tooMuch.Error).toMatch(/delegateBalance must be less than or equal to available FreezeEnergyV2 balance/);
  });

  it('a call whose fee_limit cannot pay its energy is mined failed, OUT_OF_ENERGY, burning up to the fee limit; no USDT moves', async () => {
    const [trxBefore, usdtBefore] = [await trx(senderAddress), await usdt(receiver)];
    const { answer, info } = await send('/wallet/triggersmartcontract', usdtTransfer(senderAddress, receiver, 1_000_000n, 2_000_000), sender.privateKey);
    expect(answer.result).toBe(true);
    const limit = Math.floor(2_000_000 / energyFee);
    expect(info).toMatchObject({ result: 'FAILED', receipt: { result: 'OUT_OF_ENERGY', energy_usage_total: limit, energy_fee: limit * energyFee } });
    expect(info).not.toHaveProperty('log');
    expect(await usdt(receiver)).toBe(usdtBefore);
    expect(await trx(senderAddress)).toBe(trxBefore - BigInt(info.fee));
    const block = await call('/wallet/getblockbynum', { num: tron.head() });
    expect(block.transactions[0].ret).toEqual([{ contractRet: 'OUT_OF_ENERGY' }]);
  });

  it('a repeat broadcast is DUP_TRANSACTION_ERROR and moves nothing', async () => {
    const built = await call('/wallet/createtransaction', { owner_address: senderAddress, to_address: receiver, amount: 1_000_000, visible: true });
    const signed = sign(built, sender.privateKey);
    expect(await broadcast(signed)).toEqual({ result: true, txid: built.txID });
    const again = await broadcast(signed);
    expect({ ...again, message: text(again.message) }).toEqual({ code: 'DUP_TRANSACTION_ERROR', txid: built.txID, message: 'Dup transaction.' });
    tron.mine();
    const after = await trx(receiver);
    const mined = await broadcast(signed);
    expect(mined.code).toBe('DUP_TRANSACTION_ERROR');
    tron.mine();
    expect(await trx(receiver)).toBe(after);
  });

  it('state follows reorgs and resends, and survives a restart', async () => {
    const { transaction } = await send(
      '/wallet/createtransaction',
      { owner_address: funded.address, to_address: receiver, amount: 7_000_000, visible: true },
      funded.key,
    );
    const credited = await trx(receiver);
    await call('/devnet/reorg', { depth: 1, drop: [transaction.txID] });
    expect(await trx(receiver)).toBe(credited - 7_000_000n);
    expect(await call('/devnet/resend', { txID: transaction.txID })).toEqual({ result: true, txid: transaction.txID });
    tron.mine();
    expect(await trx(receiver)).toBe(credited);
    const accounts = await Promise.all([funded.address, senderAddress, receiver].map((address) => call('/wallet/getaccount', { address })));
    const receiverUsdt = await usdt(receiver);
    await tron.stop();
    tron = await startTronDevnet({ port, stateFile });
    expect(await Promise.all([funded.address, senderAddress, receiver].map((address) => call('/wallet/getaccount', { address })))).toEqual(accounts);
    expect(await usdt(receiver)).toBe(receiverUsdt);
  });
});
