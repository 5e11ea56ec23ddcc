import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { testDerivers, testMnemonics } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { tronAddressToHex } from '../../src/chains/tron/address';
import {
  decodeRawData,
  encodeRawData,
  recoverSigner,
  transactionId,
  tronAddressOfKey,
  type TriggerSmartContract,
  type TronRawData,
} from '../../src/chains/tron/transaction';
import { signTransactionId } from '../../dev/devnet/tron-signing';
import { verifyAuditLog, type AuditEntry } from '../../src/signer/audit-log';
import { SignerClient, SignerRefusedError, type TronSignAnswer, type TronSignRequest } from '../../src/treasury/signer-client';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { testTronGasWalletKey, tronOracle } from '../helpers/tron-oracle';

const secret = 'tron-signer-test-secret-0123456789abcdef012345';
const TRX = 1_000_000n;

/**
 * The real signer process (`tsx src/signer/main.ts`) signing Tron transactions that the Tron
 * stand-in built through java-tron's endpoints; each signed transaction is broadcast through the
 * stand-in's /wallet/broadcasttransaction and mined, and the oracle is the stand-in's own account
 * state (getaccount, getaccountresource, balanceOf through triggerconstantcontract).
 */
describe('the signer process on Tron', () => {
  let tron: RunningTronDevnet;
  let signer: TestSigner;
  let client: SignerClient;
  let env: Record<string, string>;
  let gasWallet: string;
  /** Decisions asked for so far (each is one audit line). */
  let decisions = 0;
  const treasury = tronAddressOfKey(Wallet.createRandom().privateKey);
  const stranger = tronAddressOfKey(Wallet.createRandom().privateKey);
  const deriver = testDerivers().test;
  const deposit = deriver.derive('tron', 15);
  const otherDeposit = deriver.derive('tron', 16);
  const root = HDNodeWallet.fromSeed(Mnemonic.fromPhrase(testMnemonics.test).computeSeed());
  const gasWalletKey = testTronGasWalletKey;

  const { call, trxOf: trx, usdtOf: usdt } = tronOracle(() => tron);
  const resources = (address: string) => call('/wallet/getaccountresource', { address, visible: true });
  /** A transaction built by the stand-in (java-tron's endpoint), as the worker gets it: its raw_data_hex. */
  const build = async (endpoint: string, body: Record<string, unknown>): Promise<string> => {
    const built = await call(endpoint, { ...body, visible: true });
    const transaction = endpoint === '/wallet/triggersmartcontract' ? built.transaction : built;
    expect(transaction?.raw_data_hex).toMatch(/^[0-9a-f]+$/);
    return transaction.raw_data_hex as string;
  };
  const usdtTransfer = (to: string, amount: bigint, feeLimit = 50_000_000) => ({
    owner_address: deposit,
    contract_address: tron.usdtAddress,
    function_selector: 'transfer(address,uint256)',
    parameter: tronAddressToHex(to)!.slice(2).padStart(64, '0') + amount.toString(16).padStart(64, '0'),
    fee_limit: feeLimit,
  });
  let requests = 0;
  const ask = (kind: TronSignRequest['kind'], rawDataHex: string, overrides: Partial<TronSignRequest> = {}): TronSignRequest => ({
    request_id: `tron-request-${++requests}`,
    workflow_id: `tron-sweep-${requests}`,
    reason: 'integration test',
    mode: 'test',
    network: 'tron',
    kind,
    from: kind === 'sweep' ? { wallet: 'deposit', branch: 'customers', index: 15 } : { wallet: 'gas' },
    ...(kind !== 'sweep' && { destination: { branch: 'customers', index: 15 } }),
    raw_data_hex: rawDataHex,
    ...overrides,
  });
  const sign = (body: TronSignRequest) => {
    decisions++;
    return client.sign(body);
  };
  const refused = async (body: TronSignRequest, message: RegExp) => {
    decisions++;
    const error = await client.sign(body).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SignerRefusedError);
    expect(error).toMatchObject({ status: 403, code: 'policy_refused' });
    expect((error as Error).message).toMatch(message);
  };
  /** Broadcast through the stand-in's /wallet/broadcasttransaction, mine, and return the transaction's info. */
  const broadcastAndMine = async (answer: TronSignAnswer) => {
    expect(await call('/wallet/broadcasttransaction', answer.signed_transaction)).toEqual({ result: true, txid: answer.hash });
    tron.mine();
    const info = await call('/wallet/gettransactioninfobyid', { value: answer.hash });
    expect(info.id).toBe(answer.hash);
    return info;
  };
  const reencode = (rawDataHex: string, change: (raw: TronRawData) => TronRawData) =>
    Buffer.from(encodeRawData(change(decodeRawData(rawDataHex)))).toString('hex');

  beforeAll(async () => {
    tron = await startTronDevnet({ port: await freePort() });
    signer = await startTestSigner({ INFLOW_TREASURY_TRON_TEST: treasury, INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress }, secret);
    ({ env, client } = signer);
    gasWallet = (await client.health()).tron_gas_wallets.test!;
    // The operator funds the gas wallet and stakes some of its TRX for energy (by hand: the signer signs no freeze).
    tron.transfer(gasWallet, 200_000n * TRX, 'TRX');
    tron.transfer(deposit, 25n * TRX, 'USDT');
    tron.mine();
    const freeze = await call('/wallet/freezebalancev2', {
      owner_address: gasWallet,
      frozen_balance: Number(100_000n * TRX),
      resource: 'ENERGY',
      visible: true,
    });
    expect(await call('/wallet/broadcasttransaction', { ...freeze, signature: [signTransactionId(freeze.txID, gasWalletKey)] })).toMatchObject({
      result: true,
    });
    tron.mine();
  });

  afterAll(async () => {
    await signer?.stop();
    await tron?.stop();
  });

  it("serves the Tron gas wallet (m/44'/195'/1'/0/0) and treasury beside the EVM ones", async () => {
    expect(gasWallet).toBe(tronAddressOfKey(gasWalletKey));
    expect(await client.health()).toEqual({
      ok: true,
      modes: ['test'],
      gas_wallets: { test: root.derivePath("m/44'/60'/1'/0/0").address },
      treasuries: { test: { tron: treasury } },
      tron_gas_wallets: { test: gasWallet },
      hot_wallets: { test: root.derivePath("m/44'/60'/2'/0/0").address },
    });
  });

  it('signs a TRX top-up from the gas wallet to a deposit address, which the stand-in carries out', async () => {
    const answer = await sign(
      ask('gas_topup', await build('/wallet/createtransaction', { owner_address: gasWallet, to_address: deposit, amount: 30_000_000 })),
    );
    expect(answer.from).toBe(gasWallet);
    expect(answer.hash).toBe(answer.signed_transaction.txID);
    expect(recoverSigner(answer.hash, answer.signed_transaction.signature[0]!)).toBe(gasWallet);
    await broadcastAndMine(answer);
    expect(await trx(deposit)).toBe(30_000_000n);
  });

  it('signs an energy delegation from the gas wallet to the deposit address, which the stand-in carries out', async () => {
    const answer = await sign(
      ask(
        'energy_delegation',
        await build('/wallet/delegateresource', { owner_address: gasWallet, receiver_address: deposit, balance: Number(20_000n * TRX), resource: 'ENERGY' }),
      ),
    );
    await broadcastAndMine(answer);
    expect(await resources(deposit)).toMatchObject({ EnergyLimit: 200_000 });
    expect((await call('/wallet/getaccount', { address: gasWallet, visible: true })).account_resource).toMatchObject({
      delegated_frozenV2_balance_for_energy: Number(20_000n * TRX),
    });
  });

  it('signs a TRC-20 sweep to the treasury from the deposit address; the delegated energy pays for it', async () => {
    const trxBefore = await trx(deposit);
    const answer = await sign(ask('sweep', await build('/wallet/triggersmartcontract', usdtTransfer(treasury, 25n * TRX))));
    expect(answer.from).toBe(deposit);
    const info = await broadcastAndMine(answer);
    expect(info.receipt).toMatchObject({ result: 'SUCCESS', energy_usage_total: 130_285, energy_usage: 130_285 });
    expect(await usdt(treasury)).toBe(25n * TRX);
    expect(await usdt(deposit)).toBe(0n);
    expect(await trx(deposit)).toBe(trxBefore);
    expect(await resources(deposit)).toMatchObject({ EnergyUsed: 130_285 });
  });

  it('signs the reclaim of the energy delegated, which the stand-in carries out', async () => {
    const answer = await sign(
      ask(
        'energy_reclaim',
        await build('/wallet/undelegateresource', { owner_address: gasWallet, receiver_address: deposit, balance: Number(20_000n * TRX), resource: 'ENERGY' }),
      ),
    );
    await broadcastAndMine(answer);
    expect(await resources(deposit)).not.toHaveProperty('EnergyLimit');
    expect((await call('/wallet/getaccount', { address: gasWallet, visible: true })).account_resource).not.toHaveProperty(
      'delegated_frozenV2_balance_for_energy',
    );
  });

  it('answers the same request with the same bytes, and refuses its id with another body', async () => {
    tron.transfer(deposit, 3n * TRX, 'USDT');
    tron.mine();
    const body = ask('sweep', await build('/wallet/triggersmartcontract', usdtTransfer(treasury, 3n * TRX)));
    const first = await sign(body);
    expect(await sign(JSON.parse(JSON.stringify(body)) as TronSignRequest)).toEqual(first);
    // Exactly the bytes asked for, signed over their sha256.
    expect(first.signed_transaction.raw_data_hex).toBe(body.raw_data_hex);
    expect(first.hash).toBe(transactionId(Buffer.from(body.raw_data_hex, 'hex')));
    decisions++;
    await expect(client.sign({ ...body, reason: 'another' })).rejects.toMatchObject({ status: 409, code: 'request_conflict' });
    await broadcastAndMine(first);
    expect(await usdt(treasury)).toBe(28n * TRX);
  });

  it('refuses a sweep to another address, a token not configured, a foreign owner, a fee_limit over the cap and tampered bytes, naming the rule; nothing moves', async () => {
    tron.transfer(deposit, 5n * TRX, 'USDT');
    tron.mine();
    const balances = async () => [
      await usdt(deposit),
      await usdt(treasury),
      await usdt(stranger),
      await trx(deposit),
      await trx(gasWallet),
      await trx(stranger),
    ];
    const before = await balances();
    const good = await build('/wallet/triggersmartcontract', usdtTransfer(treasury, 5n * TRX));

    await refused(
      ask('sweep', await build('/wallet/triggersmartcontract', usdtTransfer(stranger, 5n * TRX))),
      new RegExp(`a token sweep may only pay tron in test mode's treasury ${treasury}, not ${stranger}`),
    );
    const otherToken = tronAddressOfKey(Wallet.createRandom().privateKey);
    await refused(
      ask(
        'sweep',
        reencode(good, (raw) => ({ ...raw, contract: { ...(raw.contract as TriggerSmartContract), contract_address: tronAddressToHex(otherToken)! } })),
      ),
      new RegExp(`${otherToken} is not a token contract of tron in test mode \\(the registry's or INFLOW_TOKEN_TRON_<CURRENCY>_TEST\\)`),
    );
    // The deposit of customer 16's transfer, asked for as customer 15's: the owner is not the key `from` names.
    tron.transfer(otherDeposit, 5n * TRX, 'USDT');
    // TRX activates its account (tokens alone do not), so the node builds a transaction from it.
    tron.transfer(otherDeposit, 1n * TRX, 'TRX');
    tron.mine();
    await refused(
      ask('sweep', await build('/wallet/triggersmartcontract', { ...usdtTransfer(treasury, 5n * TRX), owner_address: otherDeposit })),
      new RegExp(`the transaction's owner ${otherDeposit} is not the deposit address of customers 15 ${deposit}`),
    );
    // The gas wallet's TRX asked for as a sweep's: refused by its owner as well.
    await refused(
      ask('sweep', await build('/wallet/createtransaction', { owner_address: gasWallet, to_address: treasury, amount: 1_000_000 })),
      /the transaction's owner .* is not the deposit address of customers 15/,
    );
    await refused(
      ask('sweep', await build('/wallet/triggersmartcontract', usdtTransfer(treasury, 5n * TRX, 100_000_001))),
      /fee_limit 100000001 sun is above the 100000000 sun one transaction may burn on tron in test mode \(INFLOW_SIGNER_MAX_FEE_LIMIT_SUN_TRON_TEST\)/,
    );
    // Tampered bytes: a field written twice (the treasury's transfer, then another contract after it).
    // ref_block_bytes (4 bytes with its key), ref_block_hash (10), expiration (7): the contract (field 11, key 5a) starts at byte 21.
    expect(good.slice(42, 44)).toBe('5a');
    await refused(ask('sweep', good + good.slice(42)), /raw_data_hex is not a transaction this signer reads: .*more than once/);
    await refused(ask('sweep', `${good}00`), /raw_data_hex is not a transaction this signer reads/);
    await refused(
      ask('gas_topup', await build('/wallet/createtransaction', { owner_address: gasWallet, to_address: stranger, amount: 1_000_000 })),
      new RegExp(`a gas top-up may only pay its destination's address ${deposit} \\(customers 15\\), not ${stranger}`),
    );
    await refused(
      ask(
        'energy_delegation',
        await build('/wallet/delegateresource', { owner_address: gasWallet, receiver_address: deposit, balance: 1_000_000, resource: 'ENERGY', lock: true }),
      ),
      /an energy delegation is not locked on tron in test mode \(INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON_TEST is 0\)/,
    );

    // A signature for the bytes asked for does not carry over to other bytes: the stand-in refuses the swap.
    const signed = await sign(ask('sweep', good));
    const swapped = reencode(good, (raw) => ({
      ...raw,
      contract: {
        ...(raw.contract as TriggerSmartContract),
        data: (raw.contract as TriggerSmartContract).data.replace(tronAddressToHex(treasury)!.slice(2), tronAddressToHex(stranger)!.slice(2)),
      },
    }));
    const forged = { ...signed.signed_transaction, raw_data_hex: swapped, txID: transactionId(Buffer.from(swapped, 'hex')), raw_data: undefined };
    expect(await call('/wallet/broadcasttransaction', forged)).toMatchObject({ code: 'SIGERROR' });
    tron.mine();
    expect(await balances()).toEqual(before);

    const entries: AuditEntry[] = [];
    expect(await verifyAuditLog(env.INFLOW_SIGNER_AUDIT_LOG!, (entry) => entries.push(entry))).toMatchObject({ ok: true, lines: decisions });
    expect(entries.filter((entry) => entry.decision === 'refused').map((entry) => entry.rule)).toEqual([
      'request_conflict',
      'sweep_to_treasury',
      'token_contract',
      'tron_owner',
      'tron_owner',
      'tron_fee_limit',
      'tron_raw_data',
      'tron_raw_data',
      'topup_to_destination',
      'delegation_lock',
    ]);
  });

  it('logs each Tron decision with what the bytes say, hash-chained', async () => {
    const entries: AuditEntry[] = [];
    expect(await verifyAuditLog(env.INFLOW_SIGNER_AUDIT_LOG!, (entry) => entries.push(entry))).toMatchObject({ ok: true, lines: decisions });
    const sweep = entries.find((entry) => entry.token && entry.decision === 'signed')!;
    expect(sweep).toMatchObject({
      kind: 'sweep',
      mode: 'test',
      network: 'tron',
      chain_id: null,
      nonce: null,
      from: deposit,
      to: tron.usdtAddress,
      value: '0',
      token: { contract: tron.usdtAddress, currency: 'USDT', recipient: treasury, amount: String(25n * TRX) },
      tx_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      tron: { contract_type: 'TriggerSmartContract', fee_limit: 50_000_000, raw_data_hex: expect.stringMatching(/^[0-9a-f]+$/) },
    });
    expect(entries.find((entry) => entry.kind === 'energy_delegation' && entry.decision === 'signed')).toMatchObject({
      from: gasWallet,
      to: deposit,
      value: String(20_000n * TRX),
      tron: { contract_type: 'DelegateResourceContract', resource: 'ENERGY', fee_limit: 0 },
    });
    expect(entries.find((entry) => entry.rule === 'tron_raw_data')).toMatchObject({
      decision: 'refused',
      tx_hash: null,
      to: null,
      tron: { contract_type: null },
    });
    expect(entries.filter((entry) => entry.repeat)).toHaveLength(1);
  });
});
