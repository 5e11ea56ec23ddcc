import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { startTronDevnet, TRON_FUNDED_PRIVATE_KEY, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { freePort } from '../../dev/tools/ports';
import { tronAddressOfKey, type TronContract } from '../../src/chains/tron/transaction';
import { signTransaction } from '../../dev/devnet/tron-signing';
import { tronOracle } from '../helpers/tron-oracle';
import { buildTronTransaction, hex41, TronBroadcastError, TronTreasuryChain, tronTokenTransfer } from '../../src/treasury/tron-chain';

/**
 * The treasury's side of a Tron node (src/treasury/tron-chain.ts) against the Tron devnet
 * stand-in: transactions built by the worker with the codec, signed (here, as the signer will),
 * broadcast and read back. The oracle is the stand-in's own account state, read through its
 * java-tron endpoints directly, not through the class under test.
 */
describe('TronTreasuryChain on the Tron devnet stand-in', () => {
  let tron: RunningTronDevnet;
  let chain: TronTreasuryChain;
  const depositKey = Wallet.createRandom().privateKey;
  const deposit = tronAddressOfKey(depositKey);
  const treasury = tronAddressOfKey(Wallet.createRandom().privateKey);

  const { trxOf, usdtOf } = tronOracle(() => tron);
  /** Built here, signed with `key`, broadcast; not yet mined. */
  const sendSigned = async (contract: TronContract, key: string, feeLimit?: bigint) => {
    const transaction = signTransaction(buildTronTransaction(contract, await chain.referenceBlock(), { feeLimit, now: Date.now() }), key);
    await chain.send(transaction);
    return transaction;
  };

  beforeAll(async () => {
    const stateFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-tron-treasury-')), 'tron-devnet.json');
    tron = await startTronDevnet({ port: await freePort(), stateFile });
    tron.mine(2);
    chain = new TronTreasuryChain(tron.rpcUrl);
    // The customer's deposit address gets 50 USDT and some TRX for its bandwidth, as signed transfers from the funded account.
    await sendSigned(
      { type: 'TransferContract', owner_address: hex41(tron.fundedAddress), to_address: hex41(deposit), amount: 100_000_000n },
      TRON_FUNDED_PRIVATE_KEY,
    );
    await sendSigned(tronTokenTransfer(tron.usdtAddress, tron.fundedAddress, deposit, 50_000_000n), TRON_FUNDED_PRIVATE_KEY, 100_000_000n);
    tron.mine();
  });

  afterAll(async () => {
    await tron?.stop();
  });

  it('reads balances and resources as the node has them', async () => {
    expect(await chain.nativeBalance(deposit)).toBe(await trxOf(deposit));
    expect(await chain.tokenBalance(tron.usdtAddress, deposit)).toBe(50_000_000n);
    expect(await chain.tokenBalance(tron.usdtAddress, treasury)).toBe(0n);
    // A fresh account has its free daily bandwidth and no energy.
    expect(await chain.resources(deposit)).toEqual({ energy: 0n, bandwidth: expect.any(BigInt) });
    expect((await chain.resources(deposit)).bandwidth).toBeGreaterThan(0n);
  });

  it('sweeps USDT: a transfer built here and signed is mined once, however often it is sent, and its receipt says what it burned', async () => {
    const prices = await chain.prices();
    // A first transfer to the treasury pays for a new holder; the next one, to a holder, about half.
    const firstEnergy = await chain.transferEnergy(tron.usdtAddress, deposit, treasury, 30_000_000n);
    const trxBefore = await trxOf(deposit);
    const transaction = await sendSigned(tronTokenTransfer(tron.usdtAddress, deposit, treasury, 30_000_000n), depositKey, firstEnergy * prices.energy * 2n);
    // Sent again (a retry after a crash): the node has it, and says so; not an error, not a second payment.
    expect(await chain.send(transaction)).toBe(transaction.txID);
    expect(await chain.receipt(transaction.txID)).toBeUndefined();
    tron.mine();
    expect(await chain.send(transaction)).toBe(transaction.txID);
    tron.mine();
    const receipt = await chain.receipt(transaction.txID);
    expect(receipt).toMatchObject({ status: 'succeeded', energyUsed: firstEnergy });
    // The chain: 30 USDT moved once; the TRX the address lost is exactly the receipt's fee (energy burned; bandwidth was free).
    expect([await usdtOf(deposit), await usdtOf(treasury)]).toEqual([20_000_000n, 30_000_000n]);
    expect(trxBefore - (await trxOf(deposit))).toBe(receipt!.fee);
    expect(receipt).toMatchObject({ energyFee: firstEnergy * prices.energy, bandwidthFee: 0n, fee: firstEnergy * prices.energy });
    const secondEnergy = await chain.transferEnergy(tron.usdtAddress, deposit, treasury, 20_000_000n);
    expect(secondEnergy).toBeLessThan((firstEnergy * 6n) / 10n);
  });

  it("refuses, with java-tron's code, an expired transaction and one signed by another key; nothing moves", async () => {
    const before = await usdtOf(deposit);
    const reference = await chain.referenceBlock();
    const stale = signTransaction(
      buildTronTransaction(
        tronTokenTransfer(tron.usdtAddress, deposit, treasury, 1n),
        { ...reference, timestamp: reference.timestamp - 120_000 },
        { feeLimit: 50_000_000n, now: Date.now() },
      ),
      depositKey,
    );
    await expect(chain.send(stale)).rejects.toMatchObject({ name: 'TronBroadcastError', code: 'TRANSACTION_EXPIRATION_ERROR' });
    const forged = signTransaction(
      buildTronTransaction(tronTokenTransfer(tron.usdtAddress, deposit, treasury, 1n), reference, { feeLimit: 50_000_000n, now: Date.now() }),
      Wallet.createRandom().privateKey,
    );
    const refusal = await chain.send(forged).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TronBroadcastError);
    expect((refusal as TronBroadcastError).code).toBe('SIGERROR');
    tron.mine();
    expect(await usdtOf(deposit)).toBe(before);
  });

  it('sees energy delegated to a deposit address, which then pays its transfer without burning TRX for energy', async () => {
    const gasKey = Wallet.createRandom().privateKey;
    const gasWallet = tronAddressOfKey(gasKey);
    await sendSigned(
      { type: 'TransferContract', owner_address: hex41(tron.fundedAddress), to_address: hex41(gasWallet), amount: 100_000_000_000n },
      TRON_FUNDED_PRIVATE_KEY,
    );
    tron.mine();
    await sendSigned({ type: 'FreezeBalanceV2Contract', owner_address: hex41(gasWallet), frozen_balance: 50_000_000_000n, resource: 'ENERGY' }, gasKey);
    tron.mine();
    await sendSigned(
      {
        type: 'DelegateResourceContract',
        owner_address: hex41(gasWallet),
        resource: 'ENERGY',
        balance: 50_000_000_000n,
        receiver_address: hex41(deposit),
        lock: false,
        lock_period: 0,
      },
      gasKey,
    );
    tron.mine();
    const energy = await chain.transferEnergy(tron.usdtAddress, deposit, treasury, 20_000_000n);
    expect((await chain.resources(deposit)).energy).toBeGreaterThanOrEqual(energy);
    const [trxBefore, usdtBefore, treasuryBefore] = [await trxOf(deposit), await usdtOf(deposit), await usdtOf(treasury)];
    const transaction = await sendSigned(
      tronTokenTransfer(tron.usdtAddress, deposit, treasury, 20_000_000n),
      depositKey,
      energy * (await chain.prices()).energy * 2n,
    );
    tron.mine();
    // No energy burned; what it paid is bandwidth alone (its free daily allowance went to the transfers before).
    const receipt = await chain.receipt(transaction.txID);
    expect(receipt).toMatchObject({ status: 'succeeded', energyUsed: energy, energyFee: 0n });
    expect(receipt!.fee).toBe(receipt!.bandwidthFee);
    expect(trxBefore - (await trxOf(deposit))).toBe(receipt!.fee);
    expect([await usdtOf(deposit), await usdtOf(treasury)]).toEqual([usdtBefore - 20_000_000n, treasuryBefore + 20_000_000n]);
  });
});
