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
import { payoutAuthorization } from '../../src/treasury/payout-authorization';
import { SignerClient, SignerRefusedError, type TronSignAnswer, type TronSignRequest } from '../../src/treasury/signer-client';
import { buildTronTransaction, TronTreasuryChain, tronTokenTransfer, hex41 } from '../../src/treasury/tron-chain';
import { startTestSigner, type TestSigner } from '../helpers/signer';
import { testTronGasWalletKey, tronOracle } from '../helpers/tron-oracle';

const secret = 'tron-signer-test-secret-0123456789abcdef012345';
const payoutSecret = 'a-payout-authorization-secret-for-the-tron-signer-test';
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
    signer = await startTestSigner(
      {
        INFLOW_TREASURY_TRON_TEST: treasury,
        INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
        INFLOW_PAYOUT_AUTHORIZATION_SECRET: payoutSecret,
        INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_TEST: '1000',
      },
      secret,
    );
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

  it("serves the Tron gas wallet (m/44'/195'/1'/0/0), hot wallet (m/44'/195'/2'/0/0) and treasury beside the EVM ones", async () => {
    expect(gasWallet).toBe(tronAddressOfKey(gasWalletKey));
    expect(await client.health()).toEqual({
      ok: true,
      modes: ['test'],
      gas_wallets: { test: root.derivePath("m/44'/60'/1'/0/0").address },
      treasuries: { test: { tron: treasury } },
      tron_gas_wallets: { test: gasWallet },
      hot_wallets: { test: root.derivePath("m/44'/60'/2'/0/0").address },
      tron_hot_wallets: { test: tronAddressOfKey(root.derivePath("m/44'/195'/2'/0/0").privateKey) },
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

  /**
   * Payouts from the Tron hot wallet (m/44'/195'/2'/0/0), built as the worker builds them
   * (buildTronTransaction over the stand-in's head, encodeRawData) and authorised here with
   * payoutAuthorization, as the API authorises them (INFLOW_PAYOUT_AUTHORIZATION_SECRET).
   */
  describe('payouts from the Tron hot wallet', () => {
    const hotWallet = tronAddressOfKey(root.derivePath("m/44'/195'/2'/0/0").privateKey);
    const merchant = tronAddressOfKey(Wallet.createRandom().privateKey);
    let payoutRequests = 0;

    beforeAll(() => {
      // The operator funds the hot wallet (its TRX also burns for the token transfers' energy).
      tron.transfer(hotWallet, 1_000n * TRX, 'TRX');
      tron.transfer(hotWallet, 100n * TRX, 'USDT');
      tron.mine();
    });

    /** The bytes of a payout of `amount` (USDT base units, or sun) to `to` from the hot wallet, over the stand-in's head, stamped `now`. */
    const payoutBytes = async (currency: 'USDT' | 'TRX', amount: bigint, options: { to?: string; now?: number } = {}) => {
      const to = options.to ?? merchant;
      const reference = await new TronTreasuryChain(tron.rpcUrl).referenceBlock();
      const now = options.now ?? Date.now();
      const raw =
        currency === 'USDT'
          ? buildTronTransaction(tronTokenTransfer(tron.usdtAddress, hotWallet, to, amount), reference, { feeLimit: 50_000_000n, now })
          : buildTronTransaction({ type: 'TransferContract', owner_address: hex41(hotWallet), to_address: hex41(to), amount }, reference, { now });
      return Buffer.from(encodeRawData(raw)).toString('hex');
    };
    /** Payout `id` as the worker sends it: `amount` `currency` to the merchant, authorised (for `authorisedAmount` if given), carried out by `rawDataHex`. */
    const payout = (id: string, currency: 'USDT' | 'TRX', amount: bigint, rawDataHex: string, options: { authorisedAmount?: bigint } = {}): TronSignRequest => {
      const authorization = payoutAuthorization(payoutSecret, {
        payout_id: id,
        mode: 'test',
        network: 'tron',
        currency,
        amount: String(options.authorisedAmount ?? amount),
        destination: merchant,
      });
      return {
        request_id: `tron-payout-${id}-${++payoutRequests}`,
        workflow_id: `payout:${id}`,
        reason: `payout ${id}`,
        mode: 'test',
        network: 'tron',
        kind: 'payout',
        from: { wallet: 'hot' },
        payout: { id, currency, amount: amount.toString(), destination: merchant, authorization },
        raw_data_hex: rawDataHex,
      };
    };

    it('serves the hot wallet in its health', async () => {
      expect((await client.health()).tron_hot_wallets).toEqual({ test: hotWallet });
    });

    it('signs a USDT payout as one transaction only: the same bytes again, never a second txID, also after a crash', async () => {
      const amount = 12_500_000n;
      const bytes = await payoutBytes('USDT', amount);
      const first = await sign(payout('po_usdt', 'USDT', amount, bytes));
      expect(first.from).toBe(hotWallet);
      expect(first.hash).toBe(transactionId(Buffer.from(bytes, 'hex')));
      expect(first.signed_transaction.raw_data_hex).toBe(bytes);
      expect(recoverSigner(first.hash, first.signed_transaction.signature[0]!)).toBe(hotWallet);
      // The same bytes under another request id (a workflow retried): the same transaction, the same signature.
      expect(await sign(payout('po_usdt', 'USDT', amount, bytes))).toEqual(first);
      // The same terms built again (another timestamp, so another txID): both could be mined, and pay twice.
      const second = await payoutBytes('USDT', amount, { now: Date.now() + 1_000 });
      const secondId = transactionId(Buffer.from(second, 'hex'));
      expect(secondId).not.toBe(first.hash);
      await refused(
        payout('po_usdt', 'USDT', amount, second),
        new RegExp(
          `payout po_usdt was signed before as txID ${first.hash} on tron in test mode: Tron has no nonce, so a second transaction could be mined beside the first; it is signed as that transaction only, never as another \\(${secondId}\\)`,
        ),
      );
      await broadcastAndMine(first);
      expect(await usdt(merchant)).toBe(amount);

      // Rebuilt from the audit log at start: still that transaction only.
      await signer.crashAndRestart();
      await refused(payout('po_usdt', 'USDT', amount, second), new RegExp(`payout po_usdt was signed before as txID ${first.hash}`));
      expect(await sign(payout('po_usdt', 'USDT', amount, bytes))).toEqual(first);
      expect(await usdt(merchant)).toBe(amount);
    });

    it('signs a TRX payout, which the stand-in carries out', async () => {
      const answer = await sign(payout('po_trx', 'TRX', 7n * TRX, await payoutBytes('TRX', 7n * TRX)));
      expect(recoverSigner(answer.hash, answer.signed_transaction.signature[0]!)).toBe(hotWallet);
      await broadcastAndMine(answer);
      expect(await trx(merchant)).toBe(7n * TRX);
    });

    it('refuses a payout the API did not authorise, one over the cap, one paying someone else; a refused payout fixes no transaction', async () => {
      await refused(
        payout('po_forged', 'USDT', 20n * TRX, await payoutBytes('USDT', 20n * TRX), { authorisedAmount: 2n * TRX }),
        /payout po_forged's authorization does not match its terms/,
      );
      await refused(
        payout('po_big', 'USDT', 1_000_000_001n, await payoutBytes('USDT', 1_000_000_001n)),
        /a payout of 1000\.000001 USDT is above the 1000\.000000 one may pay on tron in test mode \(INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_TEST\)/,
      );
      await refused(
        payout('po_elsewhere', 'USDT', 2n * TRX, await payoutBytes('USDT', 2n * TRX, { to: stranger })),
        new RegExp(`payout po_elsewhere may only pay its destination ${merchant}, not ${stranger}`),
      );
      // po_forged was refused: put right, its (other) transaction is signed.
      expect((await sign(payout('po_forged', 'USDT', 2n * TRX, await payoutBytes('USDT', 2n * TRX)))).from).toBe(hotWallet);
      expect(await usdt(stranger)).toBe(0n);
    });

    it('logs the payout id and txID in each payout line', async () => {
      const entries: AuditEntry[] = [];
      expect(await verifyAuditLog(env.INFLOW_SIGNER_AUDIT_LOG!, (entry) => entries.push(entry))).toMatchObject({ ok: true, lines: decisions });
      const usdtLines = entries.filter((entry) => entry.payout_id === 'po_usdt');
      expect(usdtLines.map((entry) => [entry.decision, entry.rule])).toEqual([
        ['signed', null],
        ['signed', null],
        ['refused', 'payout_once'],
        ['refused', 'payout_once'],
        ['signed', null],
      ]);
      expect(usdtLines[0]).toMatchObject({
        kind: 'payout',
        network: 'tron',
        from: hotWallet,
        to: tron.usdtAddress,
        value: '0',
        nonce: null,
        token: { contract: tron.usdtAddress, currency: 'USDT', recipient: merchant, amount: '12500000' },
        tx_hash: usdtLines[1]!.tx_hash,
        workflow_id: 'payout:po_usdt',
        tron: { contract_type: 'TriggerSmartContract', fee_limit: 50_000_000 },
      });
      expect(usdtLines[0]!.tx_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(usdtLines[2]).toMatchObject({ tx_hash: null, token: null });
      expect(entries.find((entry) => entry.payout_id === 'po_trx')).toMatchObject({
        decision: 'signed',
        from: hotWallet,
        to: merchant,
        value: String(7n * TRX),
        token: null,
        tron: { contract_type: 'TransferContract', fee_limit: 0 },
      });
      expect(entries.filter((entry) => entry.payout_id === 'po_forged').map((entry) => entry.rule)).toEqual(['payout_authorization', null]);
    });
  });
});
