import { createHmac } from 'node:crypto';
import { Interface, Wallet } from 'ethers';
import { tronAddressToHex } from '../../src/chains/tron/address';
import {
  encodeRawData,
  tronAddressOfKey,
  type DelegateResourceContract,
  type TriggerSmartContract,
  type TronContract,
  type TronRawData,
  type UnDelegateResourceContract,
} from '../../src/chains/tron/transaction';
import { loadSignerConfig, SignerConfigError, type SignerNetworkPolicy, type SignerTronPolicy } from '../../src/signer/config';
import { decide, decodeTransfer, encodeTransfer } from '../../src/signer/policy';
import { decideTron, decodeTronTransfer } from '../../src/signer/tron-policy';
import {
  payoutAuthorization,
  payoutAuthorizationText,
  PayoutAuthorizationError,
  verifyPayoutAuthorization,
  type PayoutTerms,
} from '../../src/treasury/payout-authorization';
import { SignRequestSchema, signRequestSchemaFor, type SignRequest, type TronSignRequest } from '../../src/treasury/signer-protocol';

const treasury = Wallet.createRandom().address;
const token = Wallet.createRandom().address;
const deposit = Wallet.createRandom().address;
const other = Wallet.createRandom().address;
const erc20 = new Interface(['function transfer(address to, uint256 amount)', 'function transferFrom(address from, address to, uint256 amount)']);

const policy: SignerNetworkPolicy = {
  treasury,
  tokens: new Map([[token.toLowerCase(), 'USDT']]),
  gasTopupMaxWei: 10n ** 16n,
  maxFeeWei: 10n ** 16n,
  chainId: 1,
  payoutCaps: new Map(),
};

function request(overrides: Partial<Omit<SignRequest, 'tx'>> & { tx?: Partial<SignRequest['tx']> } = {}): SignRequest {
  return {
    request_id: 'r',
    workflow_id: 'w',
    reason: 'unit',
    mode: 'live',
    network: 'ethereum',
    kind: 'sweep',
    from: { wallet: 'deposit', branch: 'customers', index: 1 },
    ...overrides,
    tx: {
      ...{ chain_id: 1, nonce: 0, to: treasury, value: '1', data: '0x', gas_limit: '21000', max_fee_per_gas: '1000', max_priority_fee_per_gas: '1' },
      ...overrides.tx,
    },
  };
}

const rule = (req: SignRequest, context: Partial<Parameters<typeof decide>[1]> = {}) => {
  const decision = decide(req, { policy, hasKeys: true, destinationAddress: deposit, ...context });
  return decision.allowed ? 'allowed' : decision.rule;
};

describe('the signer policy', () => {
  it('allows a native sweep to the treasury and a token transfer(treasury, amount)', () => {
    expect(rule(request())).toBe('allowed');
    const data = erc20.encodeFunctionData('transfer', [treasury, 5n]);
    expect(decide(request({ tx: { to: token, value: '0', data, gas_limit: '65000' } }), { policy, hasKeys: true })).toEqual({
      allowed: true,
      token: { contract: token, currency: 'USDT', recipient: treasury, amount: 5n },
    });
    // Addresses compare whatever their case.
    expect(rule(request({ tx: { to: treasury.toLowerCase() } }))).toBe('allowed');
  });

  it('refuses any other destination, contract, value or calldata', () => {
    expect(rule(request({ tx: { to: other } }))).toBe('sweep_to_treasury');
    expect(rule(request({ tx: { value: '0' } }))).toBe('sweep_value');
    const to = (recipient: string, amount = 5n) => erc20.encodeFunctionData('transfer', [recipient, amount]);
    expect(rule(request({ tx: { to: token, value: '0', data: to(other) } }))).toBe('sweep_to_treasury');
    expect(rule(request({ tx: { to: token, value: '0', data: to(treasury, 0n) } }))).toBe('token_amount');
    expect(rule(request({ tx: { to: token, value: '1', data: to(treasury) } }))).toBe('token_value');
    expect(rule(request({ tx: { to: other, value: '0', data: to(treasury) } }))).toBe('token_contract');
    expect(rule(request({ tx: { to: token, value: '0', data: `${to(treasury)}00` } }))).toBe('token_calldata');
    expect(rule(request({ tx: { to: token, value: '0', data: erc20.encodeFunctionData('transferFrom', [deposit, treasury, 5n]) } }))).toBe('token_calldata');
    // Dirty high bytes in the address word: the EVM would ignore them, the policy does not accept them.
    const dirty = `${to(treasury).slice(0, 10)}ff${to(treasury).slice(12)}`;
    expect(rule(request({ tx: { to: token, value: '0', data: dirty } }))).toBe('token_calldata');
    expect(rule(request({ destination: { branch: 'customers', index: 2 } }))).toBe('sweep_destination');
    expect(rule(request({ from: { wallet: 'gas' } }))).toBe('sweep_from');
  });

  it('allows a gas top-up of its destination within the cap, and nothing else from the gas wallet', () => {
    const topup = (tx: Partial<SignRequest['tx']>) =>
      request({ kind: 'gas_topup', from: { wallet: 'gas' }, destination: { branch: 'orders', index: 3 }, tx: { to: deposit, ...tx } });
    expect(rule(topup({ value: String(10n ** 16n) }))).toBe('allowed');
    expect(rule(topup({ value: String(10n ** 16n + 1n) }))).toBe('topup_cap');
    expect(rule(topup({ value: '0' }))).toBe('topup_value');
    expect(rule(topup({ to: other }))).toBe('topup_to_destination');
    expect(rule(topup({ data: '0x00' }))).toBe('topup_data');
    expect(rule(topup({}), { destinationAddress: undefined })).toBe('topup_destination');
    expect(rule({ ...topup({}), from: { wallet: 'deposit', branch: 'customers', index: 1 } })).toBe('topup_from');
  });

  it('holds the mode, treasury, chain id and fee rules before any other', () => {
    expect(rule(request(), { hasKeys: false })).toBe('mode_without_keys');
    expect(rule(request(), { policy: { ...policy, treasury: undefined } })).toBe('no_treasury');
    expect(rule(request({ network: 'tron' }), { policy: undefined })).toBe('evm_only');
    expect(rule(request({ tx: { chain_id: 5 } }))).toBe('chain_id');
    expect(rule(request({ tx: { chain_id: 5 } }), { policy: { ...policy, chainId: undefined } })).toBe('allowed');
    expect(rule(request({ tx: { gas_limit: '20999' } }))).toBe('gas_limit');
    expect(rule(request({ tx: { max_priority_fee_per_gas: '1001' } }))).toBe('fees');
    // 21000 × max_fee_per_gas over 10^16.
    expect(rule(request({ tx: { max_fee_per_gas: String(10n ** 16n / 21_000n + 1n) } }))).toBe('fee_cap');
    expect(rule(request({ tx: { max_fee_per_gas: String(10n ** 16n / 21_000n) } }))).toBe('allowed');
  });

  it('encodes and decodes transfer(address, uint256) as ethers does', () => {
    const data = erc20.encodeFunctionData('transfer', [treasury, 123n]);
    expect(encodeTransfer(treasury, 123n)).toBe(data);
    expect(decodeTransfer(data)).toEqual({ recipient: treasury, amount: 123n });
    expect(decodeTransfer('0x')).toBeUndefined();
  });

  it('parses requests strictly: decimal text, checksummed addresses, no unknown fields', () => {
    const good = request();
    expect(SignRequestSchema.safeParse(good).success).toBe(true);
    const issue = (value: unknown) => SignRequestSchema.safeParse(value).error?.issues[0]?.path.join('.');
    expect(issue({ ...good, tx: { ...good.tx, value: '1.5' } })).toBe('tx.value');
    expect(issue({ ...good, tx: { ...good.tx, value: String(2n ** 256n) } })).toBe('tx.value');
    // One letter's case flipped: a mixed-case address whose EIP-55 checksum fails.
    const letter = treasury.slice(2).search(/[a-fA-F]/) + 2;
    const flipped =
      treasury.slice(0, letter) +
      (treasury[letter] === treasury[letter]!.toLowerCase() ? treasury[letter]!.toUpperCase() : treasury[letter]!.toLowerCase()) +
      treasury.slice(letter + 1);
    expect(issue({ ...good, tx: { ...good.tx, to: flipped } })).toBe('tx.to');
    expect(issue({ ...good, tx: { ...good.tx, access_list: [] } })).toBe('tx');
    expect(issue({ ...good, from: { wallet: 'gas', index: 1 } })).toBe('from');
    expect(issue({ ...good, network: 'solana' })).toBe('network');
  });
});

describe('the signer configuration', () => {
  const base = { INFLOW_SIGNER_SOCKET: '/run/inflow/signer.sock', INFLOW_SIGNER_SECRET: 'x'.repeat(32), INFLOW_SIGNER_AUDIT_LOG: '/var/log/inflow/audit.log' };

  it('reads treasuries, tokens (configured and the registry), caps and chain ids per network and mode', () => {
    const config = loadSignerConfig({
      ...base,
      INFLOW_SIGNER_MNEMONIC_FILE_LIVE: '/etc/inflow/live-mnemonic',
      INFLOW_TREASURY_ETHEREUM_LIVE: treasury.toLowerCase(),
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: token,
      INFLOW_GAS_TOPUP_MAX_WEI_ETHEREUM_TEST: '5',
      INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '11155111',
    });
    expect(config.mnemonicFiles).toEqual({ live: '/etc/inflow/live-mnemonic' });
    expect(config.policies.live.ethereum).toMatchObject({ treasury, chainId: 1, gasTopupMaxWei: 10n ** 16n, maxFeeWei: 10n ** 16n });
    expect([...config.policies.live.ethereum!.tokens]).toEqual([
      ['0xdac17f958d2ee523a2206206994597c13d831ec7', 'USDT'],
      ['0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', 'USDC'],
    ]);
    expect(config.policies.test.ethereum).toMatchObject({ treasury: undefined, chainId: 11155111, gasTopupMaxWei: 5n });
    expect([...config.policies.test.ethereum!.tokens]).toEqual([[token.toLowerCase(), 'USDT']]);
    expect(config.policies.test.tron).toBeUndefined();
  });

  it('says which variable is wrong', () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        loadSignerConfig(env);
      } catch (caught) {
        expect(caught).toBeInstanceOf(SignerConfigError);
        return (caught as Error).message;
      }
      return undefined;
    };
    expect(error({ ...base, INFLOW_SIGNER_SECRET: 'short' })).toBe(
      'inflow signer: INFLOW_SIGNER_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    );
    expect(error({ INFLOW_SIGNER_SECRET: base.INFLOW_SIGNER_SECRET, INFLOW_SIGNER_AUDIT_LOG: 'a' })).toBe(
      'inflow signer: missing environment variable INFLOW_SIGNER_SOCKET',
    );
    expect(error({ ...base, INFLOW_TREASURY_BASE_LIVE: '0x0000000000000000000000000000000000000000' })).toMatch(
      /INFLOW_TREASURY_BASE_LIVE must be a 0x… address/,
    );
    expect(error({ ...base, INFLOW_GAS_TOPUP_MAX_WEI_POLYGON_TEST: '1e18' })).toMatch(/INFLOW_GAS_TOPUP_MAX_WEI_POLYGON_TEST must be a whole number/);
    expect(error({ ...base, INFLOW_PAYOUT_AUTHORIZATION_SECRET: 'short' })).toBe(
      'inflow signer: INFLOW_PAYOUT_AUTHORIZATION_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    );
    expect(error({ ...base, INFLOW_PAYOUT_AUTHORIZATION_SECRET: ' '.repeat(40) })).toMatch(
      /^inflow signer: INFLOW_PAYOUT_AUTHORIZATION_SECRET must be at least 32/,
    );
    expect(error({ ...base, INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE: '1e3' })).toMatch(
      /^inflow signer: INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE must be the most one payout may pay in whole USDT as decimal text, e\.g\. "1000" or "0\.5"/,
    );
    expect(error({ ...base, INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE: '0.0000001' })).toMatch(/at most 6 decimal places/);
    expect(error({ ...base, INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_DOGE_LIVE: '1' })).toMatch(
      /^inflow signer: INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_DOGE_LIVE names no network, currency and mode that payouts are signed for \(INFLOW_SIGNER_MAX_PAYOUT_<NETWORK>_<CURRENCY>_<MODE>, e\.g\. INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE or INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE\)$/,
    );
    expect(error({ ...base, INFLOW_SIGNER_MAX_PAYOUT_TRON_USDC_LIVE: '1' })).toMatch(
      /^inflow signer: INFLOW_SIGNER_MAX_PAYOUT_TRON_USDC_LIVE names no network/,
    );
  });

  it('reads the payout authorization secret (trimmed) and the payout caps in whole units, converted with the currency’s decimals', () => {
    expect(loadSignerConfig(base).payoutAuthorizationSecret).toBeUndefined();
    expect(loadSignerConfig(base).policies.live.ethereum!.payoutCaps).toEqual(new Map());
    const config = loadSignerConfig({
      ...base,
      INFLOW_PAYOUT_AUTHORIZATION_SECRET: `  ${'p'.repeat(32)}\n`,
      INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE: '1000',
      INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_ETH_LIVE: '0.5',
      INFLOW_SIGNER_MAX_PAYOUT_BSC_USDT_TEST: ' 1.5 ',
    });
    expect(config.payoutAuthorizationSecret).toBe('p'.repeat(32));
    expect(config.policies.live.ethereum!.payoutCaps).toEqual(
      new Map([
        ['ETH', 5n * 10n ** 17n],
        ['USDT', 1_000_000_000n],
      ]),
    );
    expect(config.policies.test.ethereum!.payoutCaps).toEqual(new Map());
    // Binance-peg USDT has 18 decimals.
    expect(config.policies.test.bsc!.payoutCaps).toEqual(new Map([['USDT', 15n * 10n ** 17n]]));
  });
});

describe('a payout authorization', () => {
  const secret = 'a-payout-authorization-secret-of-40-chars';
  const terms: PayoutTerms = { payout_id: 'po_01', mode: 'live', network: 'ethereum', currency: 'USDT', amount: '12500000', destination: other };

  it("is the hex HMAC-SHA256 of 'inflow-payout-v1' and the six fields, one a line", () => {
    const text = ['inflow-payout-v1', 'po_01', 'live', 'ethereum', 'USDT', '12500000', other].join('\n');
    expect(payoutAuthorizationText(terms)).toBe(text);
    expect(payoutAuthorization(secret, terms)).toBe(createHmac('sha256', secret).update(text).digest('hex'));
    expect(payoutAuthorization(secret, terms)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies exactly the terms it was made for, under the same secret', () => {
    const authorization = payoutAuthorization(secret, terms);
    expect(verifyPayoutAuthorization(secret, terms, authorization)).toBe(true);
    const changed: Array<Partial<PayoutTerms>> = [
      { payout_id: 'po_02' },
      { mode: 'test' },
      { network: 'polygon' },
      { currency: 'USDC' },
      { amount: '12500001' },
      { destination: treasury },
      // The same address in another case is another text: the destination is authorised as given.
      { destination: other.toLowerCase() },
    ];
    for (const change of changed) expect(verifyPayoutAuthorization(secret, { ...terms, ...change }, authorization)).toBe(false);
    expect(verifyPayoutAuthorization(`${secret}x`, terms, authorization)).toBe(false);
  });

  it('is false for an authorization that is not 64 lower-case hex characters, or terms that are not well formed', () => {
    const authorization = payoutAuthorization(secret, terms);
    for (const malformed of [
      authorization.toUpperCase(),
      authorization.slice(2),
      `${authorization}00`,
      `${authorization.slice(1)}g`,
      '',
      `0x${authorization.slice(2)}`,
    ])
      expect(verifyPayoutAuthorization(secret, terms, malformed)).toBe(false);
    // A field that runs into the next line could read as other terms: never authorised.
    expect(verifyPayoutAuthorization(secret, { ...terms, payout_id: 'po_01\nlive' }, authorization)).toBe(false);
    expect(() => payoutAuthorization(secret, { ...terms, payout_id: 'po_01\nlive' })).toThrow(PayoutAuthorizationError);
    expect(() => payoutAuthorization(secret, { ...terms, amount: '012500000' })).toThrow(/amount must be base units as decimal text/);
    expect(() => payoutAuthorization(secret, { ...terms, amount: '12.5' })).toThrow(PayoutAuthorizationError);
    expect(() => payoutAuthorization(secret, { ...terms, currency: '' })).toThrow(/currency must be non-empty text/);
  });

  it('takes no secret shorter than 32 characters', () => {
    expect(() => payoutAuthorization('short', terms)).toThrow(/at least 32 characters/);
    expect(() => verifyPayoutAuthorization('', terms, '0'.repeat(64))).toThrow(PayoutAuthorizationError);
  });
});

describe('the signer policy for payouts', () => {
  const secret = 'a-payout-authorization-secret-of-40-chars';
  const usdc = Wallet.createRandom().address;
  const payoutPolicy: SignerNetworkPolicy = { ...policy, tokens: new Map([...policy.tokens, [usdc.toLowerCase(), 'USDC']]) };
  const destination = Wallet.createRandom().address;

  /** A payout of `amount` `currency` to `to`, authorised (unless `terms` say otherwise), its tx as given. */
  const payout = (
    details: { id?: string; currency?: string; amount?: bigint; destination?: string; authorization?: string } = {},
    tx: Partial<SignRequest['tx']> = {},
    extra: Partial<SignRequest> = {},
  ): SignRequest => {
    const currency = details.currency ?? 'USDT';
    const amount = details.amount ?? 5_000_000n;
    const to = details.destination ?? destination;
    const id = details.id ?? 'po_1';
    const authorization =
      details.authorization ??
      payoutAuthorization(secret, { payout_id: id, mode: 'live', network: 'ethereum', currency, amount: amount.toString(), destination: to });
    const native = currency === 'ETH';
    return request({
      kind: 'payout',
      from: { wallet: 'hot' },
      payout: { id, currency, amount: amount.toString(), destination: to, authorization },
      ...extra,
      tx: native ? { to, value: amount.toString(), data: '0x', ...tx } : { to: token, value: '0', data: encodeTransfer(to, amount), gas_limit: '65000', ...tx },
    });
  };
  const payoutRule = (req: SignRequest, context: Partial<Parameters<typeof decide>[1]> = {}) =>
    rule(req, { policy: payoutPolicy, payoutSecret: secret, destinationAddress: undefined, ...context });

  it('allows a token payout of exactly the authorised terms from the hot wallet, and a native one', () => {
    expect(decide(payout(), { policy: payoutPolicy, hasKeys: true, payoutSecret: secret })).toEqual({
      allowed: true,
      token: { contract: token, currency: 'USDT', recipient: destination, amount: 5_000_000n },
    });
    expect(payoutRule(payout({ currency: 'ETH', amount: 10n ** 18n }))).toBe('allowed');
    expect(payoutRule(payout({ currency: 'USDC' }, { to: usdc }))).toBe('allowed');
    // The authorised text is the destination as given; the transaction's address compares whatever its case.
    expect(payoutRule(payout({}, { data: encodeTransfer(destination, 5_000_000n).toUpperCase().replace('0X', '0x') }))).toBe('allowed');
  });

  it('refuses a forged or altered authorization', () => {
    expect(payoutRule(payout({ authorization: 'ab'.repeat(32) }))).toBe('payout_authorization');
    const authorised = payout();
    const altered = (change: Partial<NonNullable<SignRequest['payout']>>) => ({ ...authorised, payout: { ...authorised.payout!, ...change } });
    // The worker changes the terms and carries them out exactly: the authorization no longer matches.
    expect(payoutRule({ ...altered({ amount: '50000000' }), tx: { ...authorised.tx, data: encodeTransfer(destination, 50_000_000n) } })).toBe(
      'payout_authorization',
    );
    expect(payoutRule({ ...altered({ destination: other }), tx: { ...authorised.tx, data: encodeTransfer(other, 5_000_000n) } })).toBe('payout_authorization');
    expect(payoutRule(altered({ id: 'po_2' }))).toBe('payout_authorization');
    expect(payoutRule({ ...altered({ currency: 'USDC' }), tx: { ...authorised.tx, to: usdc } })).toBe('payout_authorization');
    // Authorised for live mode, asked in test mode (or with another secret).
    expect(payoutRule({ ...authorised, mode: 'test' })).toBe('payout_authorization');
    expect(payoutRule(authorised, { payoutSecret: `${secret}-other` })).toBe('payout_authorization');
  });

  it('refuses a transaction that is not the authorised payout: another destination, amount, token, value or calldata', () => {
    expect(payoutRule(payout({}, { data: encodeTransfer(other, 5_000_000n) }))).toBe('payout_to_destination');
    expect(payoutRule(payout({}, { data: encodeTransfer(destination, 5_000_001n) }))).toBe('payout_amount');
    expect(payoutRule(payout({}, { data: encodeTransfer(destination, 4_999_999n) }))).toBe('payout_amount');
    // USDC's contract for a USDT payout, and a contract that is no token at all.
    expect(payoutRule(payout({}, { to: usdc }))).toBe('token_contract');
    expect(payoutRule(payout({}, { to: other }))).toBe('token_contract');
    expect(payoutRule(payout({}, { value: '1' }))).toBe('token_value');
    expect(payoutRule(payout({}, { data: `${encodeTransfer(destination, 5_000_000n)}00` }))).toBe('token_calldata');
    expect(payoutRule(payout({}, { data: erc20.encodeFunctionData('transferFrom', [deposit, destination, 5_000_000n]) }))).toBe('token_calldata');
    const eth = (tx: Partial<SignRequest['tx']>) => payout({ currency: 'ETH', amount: 10n ** 18n }, tx);
    expect(payoutRule(eth({ to: other }))).toBe('payout_to_destination');
    expect(payoutRule(eth({ value: String(10n ** 18n + 1n) }))).toBe('payout_amount');
    expect(payoutRule(eth({ data: '0x00' }))).toBe('payout_data');
    // A native payout sent as a call of a token contract is not the authorised payout either.
    expect(payoutRule(eth({ to: token, value: '0', data: encodeTransfer(destination, 10n ** 18n) }))).toBe('payout_data');
    expect(payoutRule(payout({ amount: 0n }))).toBe('payout_amount');
  });

  it('refuses a payout above its currency’s cap, when one is configured', () => {
    const capped = { ...payoutPolicy, payoutCaps: new Map([['USDT', 5_000_000n]]) };
    expect(payoutRule(payout(), { policy: capped })).toBe('allowed');
    expect(payoutRule(payout({ amount: 5_000_001n }), { policy: capped })).toBe('payout_cap');
    expect(decide(payout({ amount: 5_000_001n }), { policy: capped, hasKeys: true, payoutSecret: secret })).toMatchObject({
      message: 'a payout of 5.000001 USDT is above the 5.000000 one may pay on ethereum in live mode (INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE)',
    });
    // Another currency has no cap of its own.
    expect(payoutRule(payout({ currency: 'ETH', amount: 10n ** 24n }), { policy: capped })).toBe('allowed');
  });

  it('signs no payout without the authorization secret, from any wallet but the hot one, or without its terms', () => {
    expect(payoutRule(payout(), { payoutSecret: undefined })).toBe('payouts_not_configured');
    expect(payoutRule(payout({}, {}, { from: { wallet: 'gas' } }))).toBe('payout_from');
    expect(payoutRule(payout({}, {}, { from: { wallet: 'deposit', branch: 'customers', index: 1 } }))).toBe('payout_from');
    const { payout: _details, ...withoutDetails } = payout();
    expect(payoutRule(withoutDetails)).toBe('payout_details');
    expect(payoutRule(payout({}, {}, { destination: { branch: 'customers', index: 1 } }))).toBe('payout_details');
  });

  it('holds the chain id and fee rules for payouts too', () => {
    expect(payoutRule(payout({}, { chain_id: 5 }))).toBe('chain_id');
    expect(payoutRule(payout({}, { max_fee_per_gas: String(10n ** 16n / 65_000n + 1n) }))).toBe('fee_cap');
    expect(payoutRule(payout(), { hasKeys: false })).toBe('mode_without_keys');
  });

  it('lets no sweep or top-up come from the hot wallet or carry a payout', () => {
    expect(payoutRule(request({ from: { wallet: 'hot' } }))).toBe('sweep_from');
    const { payout: details } = payout();
    expect(payoutRule(request({ payout: details! }))).toBe('payout_details');
    const topup = request({ kind: 'gas_topup', from: { wallet: 'gas' }, destination: { branch: 'orders', index: 3 }, tx: { to: deposit } });
    expect(payoutRule(topup, { destinationAddress: deposit })).toBe('allowed');
    expect(payoutRule({ ...topup, from: { wallet: 'hot' } }, { destinationAddress: deposit })).toBe('topup_from');
    expect(payoutRule({ ...topup, payout: details! }, { destinationAddress: deposit })).toBe('payout_details');
  });

  it('parses payout requests strictly', () => {
    const good = payout();
    expect(SignRequestSchema.safeParse(good).success).toBe(true);
    const issue = (value: unknown) => SignRequestSchema.safeParse(value).error?.issues[0]?.path.join('.');
    const details = good.payout!;
    expect(issue({ ...good, payout: { ...details, authorization: details.authorization.toUpperCase() } })).toBe('payout.authorization');
    expect(issue({ ...good, payout: { ...details, authorization: details.authorization.slice(1) } })).toBe('payout.authorization');
    expect(issue({ ...good, payout: { ...details, currency: 'usdt' } })).toBe('payout.currency');
    expect(issue({ ...good, payout: { ...details, amount: '5.0' } })).toBe('payout.amount');
    expect(issue({ ...good, payout: { ...details, destination: 'T' + 'x'.repeat(33) } })).toBe('payout.destination');
    expect(issue({ ...good, payout: { ...details, id: 'x'.repeat(101) } })).toBe('payout.id');
    expect(issue({ ...good, payout: { ...details, memo: 'x' } })).toBe('payout');
    expect(issue({ ...good, from: { wallet: 'hot', index: 0 } })).toBe('from');
    // A Tron request's payout is paid to a Tron address (T…), never to a 0x… one.
    const { tx: _tx, ...withoutTx } = good;
    expect(
      signRequestSchemaFor({ network: 'tron' })
        .safeParse({ ...withoutTx, network: 'tron', raw_data_hex: '0a02' })
        .error?.issues[0]?.path.join('.'),
    ).toBe('payout.destination');
  });
});

describe('the signer policy on Tron', () => {
  const tronAddress = () => tronAddressOfKey(Wallet.createRandom().privateKey);
  const hexOf = (address: string) => tronAddressToHex(address)!;
  const tronTreasury = tronAddress();
  const tronToken = tronAddress();
  const depositAddress = tronAddress();
  const gasWallet = tronAddress();
  const destinationAddress = tronAddress();
  const hotWallet = tronAddress();
  const stranger = tronAddress();
  const now = Date.UTC(2026, 0, 1);
  const tronPolicy: SignerTronPolicy = {
    treasury: tronTreasury,
    tokens: new Map([[hexOf(tronToken), 'USDT']]),
    gasTopupMaxSun: 100_000_000n,
    maxFeeLimitSun: 100_000_000n,
    delegationMaxSun: 50_000_000_000n,
    delegationMaxLockBlocks: 0,
    maxExpirationMs: 600_000,
    payoutCaps: new Map(),
  };
  /** transfer(to, amount) as TVM call data (the 20-byte account id in the address word), hex without 0x. */
  const transferData = (to: string, amount: bigint) => encodeTransfer(`0x${hexOf(to).slice(2)}`, amount).slice(2);
  const raw = (contract: TronContract, overrides: Partial<TronRawData> = {}): TronRawData => ({
    contract,
    ref_block_bytes: '0a1b',
    ref_block_hash: '0123456789abcdef',
    expiration: now + 60_000,
    timestamp: now,
    fee_limit: 0,
    ...overrides,
  });
  const hexRaw = (value: TronRawData) => Buffer.from(encodeRawData(value)).toString('hex');
  const trxSweep = (to = tronTreasury, amount = 5_000_000n, owner = depositAddress) =>
    raw({ type: 'TransferContract', owner_address: hexOf(owner), to_address: hexOf(to), amount });
  const tokenSweep = (data = transferData(tronTreasury, 25_000_000n), overrides: Partial<TriggerSmartContract> = {}, feeLimit = 50_000_000) =>
    raw(
      { type: 'TriggerSmartContract', owner_address: hexOf(depositAddress), contract_address: hexOf(tronToken), call_value: 0n, data, ...overrides },
      { fee_limit: feeLimit },
    );
  const topup = (amount = 30_000_000n, to = destinationAddress) =>
    raw({ type: 'TransferContract', owner_address: hexOf(gasWallet), to_address: hexOf(to), amount });
  const delegation = (overrides: Partial<DelegateResourceContract> = {}) =>
    raw({
      type: 'DelegateResourceContract',
      owner_address: hexOf(gasWallet),
      resource: 'ENERGY',
      balance: 20_000_000_000n,
      receiver_address: hexOf(destinationAddress),
      lock: false,
      lock_period: 0,
      ...overrides,
    });
  const reclaim = (overrides: Partial<UnDelegateResourceContract> = {}) =>
    raw({
      type: 'UnDelegateResourceContract',
      owner_address: hexOf(gasWallet),
      resource: 'ENERGY',
      balance: 20_000_000_000n,
      receiver_address: hexOf(destinationAddress),
      ...overrides,
    });

  type Kind = TronSignRequest['kind'];
  const fromOf = (kind: Kind): TronSignRequest['from'] =>
    kind === 'sweep' ? { wallet: 'deposit', branch: 'customers', index: 1 } : kind === 'payout' ? { wallet: 'hot' } : { wallet: 'gas' };
  const tronRequest = (kind: Kind, value: TronRawData | string, overrides: Partial<TronSignRequest> = {}): TronSignRequest => ({
    request_id: 'r',
    workflow_id: 'w',
    reason: 'unit',
    mode: 'live',
    network: 'tron',
    kind,
    from: fromOf(kind),
    ...(kind !== 'sweep' && kind !== 'payout' && { destination: { branch: 'orders', index: 3 } }),
    raw_data_hex: typeof value === 'string' ? value : hexRaw(value),
    ...overrides,
  });
  const contextFor = (request: TronSignRequest) => ({
    policy: tronPolicy,
    hasKeys: true,
    fromAddress: request.from.wallet === 'gas' ? gasWallet : request.from.wallet === 'hot' ? hotWallet : depositAddress,
    ...(request.destination && { destinationAddress }),
    now,
  });
  const tronRule = (request: TronSignRequest, context: Partial<Parameters<typeof decideTron>[1]> = {}) => {
    const decision = decideTron(request, { ...contextFor(request), ...context });
    return decision.allowed ? 'allowed' : decision.rule;
  };
  const judge = (kind: Kind, value: TronRawData | string, overrides: Partial<TronSignRequest> = {}) => tronRule(tronRequest(kind, value, overrides));

  it('allows a TRX sweep and a TRC-20 transfer(treasury, amount) to the treasury, from the deposit address', () => {
    expect(judge('sweep', trxSweep())).toBe('allowed');
    const decision = decideTron(tronRequest('sweep', tokenSweep()), contextFor(tronRequest('sweep', tokenSweep())));
    expect(decision).toMatchObject({ allowed: true, token: { contract: tronToken, currency: 'USDT', recipient: tronTreasury, amount: 25_000_000n } });
    expect(decision.raw?.contract.type).toBe('TriggerSmartContract');
  });

  it('refuses a sweep to anyone else, another token, call_value, other calldata, a zero amount, or from the gas wallet', () => {
    expect(judge('sweep', trxSweep(stranger))).toBe('sweep_to_treasury');
    expect(judge('sweep', trxSweep(tronTreasury, 0n))).toBe('sweep_value');
    expect(judge('sweep', tokenSweep(transferData(stranger, 1n)))).toBe('sweep_to_treasury');
    expect(judge('sweep', tokenSweep(transferData(tronTreasury, 0n)))).toBe('token_amount');
    expect(judge('sweep', tokenSweep(undefined, { contract_address: hexOf(stranger) }))).toBe('token_contract');
    expect(judge('sweep', tokenSweep(undefined, { call_value: 1n }))).toBe('token_value');
    expect(judge('sweep', tokenSweep(`${transferData(tronTreasury, 1n)}00`))).toBe('token_calldata');
    // approve(treasury, amount): the same words under another selector.
    expect(judge('sweep', tokenSweep(`095ea7b3${transferData(tronTreasury, 1n).slice(8)}`))).toBe('token_calldata');
    // The 41 prefix (or any high byte) in the address word: TVM would ignore it, the policy does not accept it.
    const word = transferData(tronTreasury, 1n);
    expect(judge('sweep', tokenSweep(`${word.slice(0, 30)}41${word.slice(32)}`))).toBe('token_calldata');
    expect(judge('sweep', trxSweep(), { destination: { branch: 'customers', index: 2 } })).toBe('sweep_destination');
    expect(judge('sweep', trxSweep(tronTreasury, 1n, gasWallet), { from: { wallet: 'gas' } })).toBe('sweep_from');
    expect(judge('sweep', delegation({ owner_address: hexOf(depositAddress) }))).toBe('tron_contract_type');
  });

  it('refuses an owner that is not the from wallet, an expiration too far ahead, and a fee_limit over the cap', () => {
    expect(judge('sweep', trxSweep(tronTreasury, 1n, stranger))).toBe('tron_owner');
    // The deposit address asked for another's key: the owner the bytes name is not the one `from` derives.
    expect(judge('sweep', trxSweep(tronTreasury, 1n, gasWallet))).toBe('tron_owner');
    expect(judge('gas_topup', raw({ type: 'TransferContract', owner_address: hexOf(depositAddress), to_address: hexOf(destinationAddress), amount: 1n }))).toBe(
      'tron_owner',
    );
    expect(judge('sweep', { ...trxSweep(), expiration: now + 600_000 })).toBe('allowed');
    expect(judge('sweep', { ...trxSweep(), expiration: now + 600_001 })).toBe('tron_expiration');
    expect(judge('sweep', tokenSweep(undefined, {}, 100_000_000))).toBe('allowed');
    expect(judge('sweep', tokenSweep(undefined, {}, 100_000_001))).toBe('tron_fee_limit');
    // Only a call burns energy: a fee_limit on anything else is refused.
    expect(judge('sweep', { ...trxSweep(), fee_limit: 1 })).toBe('tron_fee_limit');
    expect(judge('energy_delegation', { ...delegation(), fee_limit: 1 })).toBe('tron_fee_limit');
  });

  it('refuses whatever the strict decoder refuses: garbage, trailing bytes, two contracts, another contract type, a non-canonical encoding', () => {
    const good = hexRaw(trxSweep());
    const refusal = (value: string) => decideTron(tronRequest('sweep', value), contextFor(tronRequest('sweep', value)));
    expect(refusal('00')).toMatchObject({ allowed: false, rule: 'tron_raw_data' });
    expect(refusal(`${good}00`)).toMatchObject({ allowed: false, rule: 'tron_raw_data' });
    // A second contract (field 11) appended: java-tron runs one contract a transaction.
    const contract = /5a([0-9a-f]{2})/.exec(good)!;
    const contractHex = good.slice(contract.index, contract.index + 4 + parseInt(contract[1]!, 16) * 2);
    expect(refusal(good + contractHex)).toMatchObject({ allowed: false, rule: 'tron_raw_data', message: expect.stringMatching(/more than once/) });
    // A contract type the codec does not know (TransferAssetContract, 2) in place of TransferContract (1).
    const otherType = good.replace(`${contractHex.slice(0, 4)}0801`, `${contractHex.slice(0, 4)}0802`);
    expect(refusal(otherType)).toMatchObject({ allowed: false, rule: 'tron_raw_data', message: expect.stringMatching(/contract type 2 is not one/) });
    // A type the codec knows but no kind signs: freezing the deposit's TRX.
    expect(judge('sweep', raw({ type: 'FreezeBalanceV2Contract', owner_address: hexOf(depositAddress), frozen_balance: 1n, resource: 'ENERGY' }))).toBe(
      'tron_contract_type',
    );
    // fee_limit written out as 0: a default protobuf leaves out.
    expect(refusal(`${good}9001` + '00')).toMatchObject({ allowed: false, rule: 'tron_raw_data' });
  });

  it('allows a TRX top-up of its destination within the cap, and nothing else from the gas wallet as a top-up', () => {
    expect(judge('gas_topup', topup(100_000_000n))).toBe('allowed');
    expect(judge('gas_topup', topup(100_000_001n))).toBe('topup_cap');
    expect(judge('gas_topup', topup(0n))).toBe('topup_value');
    expect(judge('gas_topup', topup(1n, stranger))).toBe('topup_to_destination');
    expect(judge('gas_topup', topup(), { destination: undefined })).toBe('topup_destination');
    expect(judge('gas_topup', trxSweep(destinationAddress, 1n), { from: { wallet: 'deposit', branch: 'customers', index: 1 } })).toBe('topup_from');
    expect(judge('gas_topup', delegation())).toBe('tron_contract_type');
  });

  it('allows delegating and reclaiming ENERGY to and from the destination, within the cap and without a lock', () => {
    expect(judge('energy_delegation', delegation())).toBe('allowed');
    expect(judge('energy_reclaim', reclaim())).toBe('allowed');
    expect(judge('energy_delegation', delegation({ balance: 50_000_000_001n }))).toBe('delegation_cap');
    expect(judge('energy_reclaim', reclaim({ balance: 50_000_000_001n }))).toBe('reclaim_cap');
    expect(judge('energy_delegation', delegation({ balance: 0n }))).toBe('delegation_balance');
    expect(judge('energy_reclaim', reclaim({ balance: 0n }))).toBe('reclaim_balance');
    expect(judge('energy_delegation', delegation({ resource: 'BANDWIDTH' }))).toBe('delegation_resource');
    expect(judge('energy_reclaim', reclaim({ resource: 'BANDWIDTH' }))).toBe('reclaim_resource');
    expect(judge('energy_delegation', delegation({ receiver_address: hexOf(stranger) }))).toBe('delegation_to_destination');
    expect(judge('energy_reclaim', reclaim({ receiver_address: hexOf(stranger) }))).toBe('reclaim_to_destination');
    expect(judge('energy_delegation', delegation(), { destination: undefined })).toBe('delegation_destination');
    expect(judge('energy_reclaim', reclaim(), { destination: undefined })).toBe('reclaim_destination');
    const fromDeposit = { from: { wallet: 'deposit', branch: 'customers', index: 1 } } as const;
    expect(judge('energy_delegation', delegation({ owner_address: hexOf(depositAddress) }), fromDeposit)).toBe('delegation_from');
    expect(judge('energy_reclaim', reclaim({ owner_address: hexOf(depositAddress) }), fromDeposit)).toBe('reclaim_from');
    expect(judge('energy_delegation', reclaim())).toBe('tron_contract_type');
    expect(judge('energy_reclaim', delegation())).toBe('tron_contract_type');
    expect(judge('energy_delegation', topup())).toBe('tron_contract_type');
  });

  it('refuses a lock unless one is allowed, and one longer than allowed', () => {
    expect(judge('energy_delegation', delegation({ lock: true, lock_period: 100 }))).toBe('delegation_lock');
    expect(judge('energy_delegation', delegation({ lock: false, lock_period: 100 }))).toBe('delegation_lock');
    const bounded = { policy: { ...tronPolicy, delegationMaxLockBlocks: 1200 } };
    const request = (lock_period: number) => tronRequest('energy_delegation', delegation({ lock: true, lock_period }));
    expect(tronRule(request(1200), bounded)).toBe('allowed');
    expect(tronRule(request(1201), bounded)).toBe('delegation_lock');
    // lock_period 0 with lock: java-tron's default, 86,400 blocks.
    expect(tronRule(request(0), bounded)).toBe('delegation_lock');
    expect(tronRule(request(0), { policy: { ...tronPolicy, delegationMaxLockBlocks: 86_400 } })).toBe('allowed');
  });

  it('holds the mode and treasury rules before any other', () => {
    expect(tronRule(tronRequest('sweep', 'zz'), { hasKeys: false })).toBe('mode_without_keys');
    expect(tronRule(tronRequest('sweep', '00'), { policy: { ...tronPolicy, treasury: undefined } })).toBe('no_treasury');
    expect(tronRule(tronRequest('sweep', '00'))).toBe('tron_raw_data');
  });

  it('parses Tron requests strictly: network "tron" takes raw_data_hex and no tx; the EVM kinds take no energy', () => {
    const good = tronRequest('energy_delegation', delegation());
    const issue = (value: unknown) => signRequestSchemaFor(value).safeParse(value).error?.issues[0]?.path.join('.');
    expect(issue(good)).toBeUndefined();
    expect(issue({ ...good, raw_data_hex: good.raw_data_hex.toUpperCase() })).toBe('raw_data_hex');
    expect(issue({ ...good, raw_data_hex: `0x${good.raw_data_hex}` })).toBe('raw_data_hex');
    expect(issue({ ...good, txID: 'ab' })).toBe('');
    expect(issue({ ...request(), network: 'tron' })).toBeDefined();
    expect(issue({ ...request(), kind: 'energy_delegation' })).toBe('kind');
    expect(issue(request())).toBeUndefined();
    const { raw_data_hex: _ignored, ...missing } = good;
    expect(issue(missing)).toBe('raw_data_hex');
  });

  it('decodes a TRC-20 transfer as the codec encodes it', () => {
    expect(decodeTronTransfer(transferData(tronTreasury, 7n))).toEqual({ recipient: tronTreasury, amount: 7n });
    expect(decodeTronTransfer('')).toBeUndefined();
  });

  describe('payouts', () => {
    const payoutSecret = 'a-payout-authorization-secret-of-40-chars';
    const merchant = tronAddress();
    const usdcToken = tronAddress();
    const payoutPolicy: SignerTronPolicy = { ...tronPolicy, tokens: new Map([...tronPolicy.tokens, [hexOf(usdcToken), 'USDC']]) };
    /** TRX from the hot wallet (a TransferContract). */
    const trxPayout = (to = merchant, amount = 5_000_000n, owner = hotWallet) =>
      raw({ type: 'TransferContract', owner_address: hexOf(owner), to_address: hexOf(to), amount });
    /** A TRC-20 transfer from the hot wallet (a TriggerSmartContract of the USDT contract unless overridden). */
    const tokenPayout = (data = transferData(merchant, 5_000_000n), overrides: Partial<TriggerSmartContract> = {}) =>
      raw(
        { type: 'TriggerSmartContract', owner_address: hexOf(hotWallet), contract_address: hexOf(tronToken), call_value: 0n, data, ...overrides },
        { fee_limit: 50_000_000 },
      );
    /** Payout `id` of `amount` `currency` to `destination`, authorised for tron in live mode (unless `authorization` says otherwise); its bytes as given, else exactly the payout. */
    const payout = (
      details: { id?: string; currency?: string; amount?: bigint; destination?: string; authorization?: string } = {},
      value?: TronRawData,
      overrides: Partial<TronSignRequest> = {},
    ): TronSignRequest => {
      const id = details.id ?? 'po_1';
      const currency = details.currency ?? 'USDT';
      const amount = details.amount ?? 5_000_000n;
      const destination = details.destination ?? merchant;
      const authorization =
        details.authorization ??
        payoutAuthorization(payoutSecret, { payout_id: id, mode: 'live', network: 'tron', currency, amount: amount.toString(), destination });
      const bytes = value ?? (currency === 'TRX' ? trxPayout(destination, amount) : tokenPayout(transferData(destination, amount)));
      return tronRequest('payout', bytes, { payout: { id, currency, amount: amount.toString(), destination, authorization }, ...overrides });
    };
    const payoutContext = (request: TronSignRequest, context: Partial<Parameters<typeof decideTron>[1]> = {}) => ({
      ...contextFor(request),
      policy: payoutPolicy,
      payoutSecret,
      ...context,
    });
    const payoutRule = (request: TronSignRequest, context: Partial<Parameters<typeof decideTron>[1]> = {}) => {
      const decision = decideTron(request, payoutContext(request, context));
      return decision.allowed ? 'allowed' : decision.rule;
    };
    const refusal = (request: TronSignRequest, context: Partial<Parameters<typeof decideTron>[1]> = {}) => {
      const decision = decideTron(request, payoutContext(request, context));
      return decision.allowed ? 'allowed' : decision.message;
    };

    it('allows a USDT payout of exactly the authorised terms from the hot wallet, and a TRX one', () => {
      const usdt = payout();
      expect(decideTron(usdt, payoutContext(usdt))).toMatchObject({
        allowed: true,
        token: { contract: tronToken, currency: 'USDT', recipient: merchant, amount: 5_000_000n },
        raw: { contract: { type: 'TriggerSmartContract' }, fee_limit: 50_000_000 },
      });
      const trx = payout({ currency: 'TRX', amount: 7_000_000n });
      const decision = decideTron(trx, payoutContext(trx));
      expect(decision).toMatchObject({ allowed: true, raw: { contract: { type: 'TransferContract', amount: 7_000_000n } } });
      expect(decision).not.toHaveProperty('token');
      expect(payoutRule(payout({ currency: 'USDC' }, tokenPayout(undefined, { contract_address: hexOf(usdcToken) })))).toBe('allowed');
    });

    it('refuses a transaction that is not the authorised payout: another destination, amount, contract, call_value or calldata', () => {
      expect(payoutRule(payout({}, tokenPayout(transferData(stranger, 5_000_000n))))).toBe('payout_to_destination');
      expect(refusal(payout({}, tokenPayout(transferData(stranger, 5_000_000n))))).toBe(
        `payout po_1 may only pay its destination ${merchant}, not ${stranger}`,
      );
      expect(payoutRule(payout({}, tokenPayout(transferData(merchant, 5_000_001n))))).toBe('payout_amount');
      expect(payoutRule(payout({}, tokenPayout(transferData(merchant, 4_999_999n))))).toBe('payout_amount');
      expect(refusal(payout({}, tokenPayout(transferData(merchant, 4_999_999n))))).toBe('payout po_1 pays 5000000 base units of USDT, not 4999999');
      // USDC's contract for a USDT payout, and a contract that is no token at all.
      expect(payoutRule(payout({}, tokenPayout(undefined, { contract_address: hexOf(usdcToken) })))).toBe('token_contract');
      expect(refusal(payout({}, tokenPayout(undefined, { contract_address: hexOf(stranger) })))).toBe(
        `${stranger} is not USDT's token contract on tron in live mode (the registry's or INFLOW_TOKEN_TRON_USDT_LIVE)`,
      );
      expect(payoutRule(payout({}, tokenPayout(undefined, { call_value: 1n })))).toBe('token_value');
      expect(payoutRule(payout({}, tokenPayout(`${transferData(merchant, 5_000_000n)}00`)))).toBe('token_calldata');
      expect(payoutRule(payout({}, tokenPayout(`095ea7b3${transferData(merchant, 5_000_000n).slice(8)}`)))).toBe('token_calldata');
      const trx = (value: TronRawData) => payout({ currency: 'TRX', amount: 7_000_000n }, value);
      expect(payoutRule(trx(trxPayout(stranger, 7_000_000n)))).toBe('payout_to_destination');
      expect(payoutRule(trx(trxPayout(merchant, 7_000_001n)))).toBe('payout_amount');
      expect(refusal(trx(trxPayout(merchant, 7_000_001n)))).toBe('payout po_1 pays 7000000 sun of TRX, not 7000001');
      // TRX sent as a call, and USDT as a TRX transfer: neither is the authorised payout.
      expect(payoutRule(trx(tokenPayout(transferData(merchant, 7_000_000n))))).toBe('tron_contract_type');
      expect(payoutRule(payout({}, trxPayout(merchant, 5_000_000n)))).toBe('tron_contract_type');
      expect(payoutRule(payout({ amount: 0n }))).toBe('payout_amount');
    });

    it('refuses a forged or altered authorization', () => {
      expect(payoutRule(payout({ authorization: 'ab'.repeat(32) }))).toBe('payout_authorization');
      const authorised = payout();
      const altered = (change: Partial<NonNullable<TronSignRequest['payout']>>, value?: TronRawData) => ({
        ...authorised,
        payout: { ...authorised.payout!, ...change },
        ...(value && { raw_data_hex: hexRaw(value) }),
      });
      // The worker changes the terms and carries them out exactly: the authorization no longer matches.
      expect(payoutRule(altered({ amount: '50000000' }, tokenPayout(transferData(merchant, 50_000_000n))))).toBe('payout_authorization');
      expect(payoutRule(altered({ destination: stranger }, tokenPayout(transferData(stranger, 5_000_000n))))).toBe('payout_authorization');
      expect(payoutRule(altered({ id: 'po_2' }))).toBe('payout_authorization');
      // Authorised for live mode, asked in test mode; with another secret; for another network's terms.
      expect(payoutRule({ ...authorised, mode: 'test' })).toBe('payout_authorization');
      expect(payoutRule(authorised, { payoutSecret: `${payoutSecret}-other` })).toBe('payout_authorization');
      const ethereumTerms = payoutAuthorization(payoutSecret, {
        payout_id: 'po_1',
        mode: 'live',
        network: 'ethereum',
        currency: 'USDT',
        amount: '5000000',
        destination: merchant,
      });
      expect(payoutRule(payout({ authorization: ethereumTerms }))).toBe('payout_authorization');
      expect(refusal(payout({ authorization: ethereumTerms }))).toBe(
        `payout po_1's authorization does not match its terms (live, tron, 5000000 base units of USDT to ${merchant}): the API did not authorise this payout`,
      );
    });

    it('refuses a payout above its currency’s cap, when one is configured', () => {
      const capped = { policy: { ...payoutPolicy, payoutCaps: new Map([['USDT', 5_000_000n]]) } };
      expect(payoutRule(payout(), capped)).toBe('allowed');
      expect(payoutRule(payout({ amount: 5_000_001n }), capped)).toBe('payout_cap');
      expect(refusal(payout({ amount: 5_000_001n }), capped)).toBe(
        'a payout of 5.000001 USDT is above the 5.000000 one may pay on tron in live mode (INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE)',
      );
      // Another currency has no cap of its own.
      expect(payoutRule(payout({ currency: 'TRX', amount: 10n ** 15n }), capped)).toBe('allowed');
    });

    it('signs no payout without the authorization secret, from any wallet but the hot one, or without its terms', () => {
      expect(payoutRule(payout(), { payoutSecret: undefined })).toBe('payouts_not_configured');
      // The gas wallet's own transfer, asked for as a payout from the gas wallet.
      expect(payoutRule(payout({}, tokenPayout(undefined, { owner_address: hexOf(gasWallet) }), { from: { wallet: 'gas' } }))).toBe('payout_from');
      expect(refusal(payout({}, tokenPayout(undefined, { owner_address: hexOf(gasWallet) }), { from: { wallet: 'gas' } }))).toBe(
        'a payout is sent from the hot wallet (from.wallet "hot"), not from the gas wallet',
      );
      const fromDeposit = { from: { wallet: 'deposit', branch: 'customers', index: 1 } } as const;
      expect(payoutRule(payout({}, tokenPayout(undefined, { owner_address: hexOf(depositAddress) }), fromDeposit))).toBe('payout_from');
      const { payout: _details, ...withoutDetails } = payout();
      expect(payoutRule(withoutDetails)).toBe('payout_details');
      expect(payoutRule(payout({}, undefined, { destination: { branch: 'customers', index: 1 } }))).toBe('payout_details');
    });

    it('holds the owner, expiration and fee_limit rules for payouts too', () => {
      // Bytes the gas wallet owns, asked for as the hot wallet's.
      expect(payoutRule(payout({}, tokenPayout(undefined, { owner_address: hexOf(gasWallet) })))).toBe('tron_owner');
      expect(refusal(payout({}, tokenPayout(undefined, { owner_address: hexOf(gasWallet) })))).toBe(
        `the transaction's owner ${gasWallet} is not the hot wallet ${hotWallet}`,
      );
      expect(payoutRule(payout({ currency: 'TRX' }, { ...trxPayout(), fee_limit: 1 }))).toBe('tron_fee_limit');
      expect(payoutRule(payout({ currency: 'TRX' }, { ...trxPayout(), expiration: now + 600_001 }))).toBe('tron_expiration');
      expect(payoutRule(payout(), { hasKeys: false })).toBe('mode_without_keys');
      expect(payoutRule(payout(), { policy: { ...payoutPolicy, treasury: undefined } })).toBe('no_treasury');
    });

    it('lets no sweep, top-up or delegation come from the hot wallet or carry a payout', () => {
      const { payout: details } = payout();
      expect(payoutRule(tronRequest('sweep', trxSweep(tronTreasury, 1n, hotWallet), { from: { wallet: 'hot' } }))).toBe('sweep_from');
      expect(refusal(tronRequest('sweep', trxSweep(tronTreasury, 1n, hotWallet), { from: { wallet: 'hot' } }))).toBe(
        'a sweep is sent from a deposit address (from.wallet "deposit"), not from the hot wallet',
      );
      expect(payoutRule(tronRequest('sweep', trxSweep(), { payout: details! }))).toBe('payout_details');
      expect(refusal(tronRequest('sweep', trxSweep(), { payout: details! }))).toBe('a sweep carries no payout: only a payout (kind "payout") does');
      const hotTopup = raw({ type: 'TransferContract', owner_address: hexOf(hotWallet), to_address: hexOf(destinationAddress), amount: 1n });
      expect(payoutRule(tronRequest('gas_topup', hotTopup, { from: { wallet: 'hot' } }))).toBe('topup_from');
      expect(payoutRule(tronRequest('gas_topup', topup(), { payout: details! }))).toBe('payout_details');
      expect(payoutRule(tronRequest('energy_delegation', delegation({ owner_address: hexOf(hotWallet) }), { from: { wallet: 'hot' } }))).toBe(
        'delegation_from',
      );
      expect(payoutRule(tronRequest('energy_reclaim', reclaim(), { payout: details! }))).toBe('payout_details');
      // A payout is a transfer: no delegation is one.
      expect(payoutRule(payout({}, delegation({ owner_address: hexOf(hotWallet) })))).toBe('tron_contract_type');
    });

    it('parses Tron payout requests strictly: a T… destination, the hot wallet with nothing else', () => {
      const good = payout();
      const issue = (value: unknown) => signRequestSchemaFor(value).safeParse(value).error?.issues[0]?.path.join('.');
      expect(issue(good)).toBeUndefined();
      const details = good.payout!;
      expect(issue({ ...good, payout: { ...details, destination: `0x${hexOf(merchant).slice(2)}` } })).toBe('payout.destination');
      // One character changed: the checksum fails.
      const broken = merchant.slice(0, -1) + (merchant.endsWith('a') ? 'b' : 'a');
      expect(issue({ ...good, payout: { ...details, destination: broken } })).toBe('payout.destination');
      expect(issue({ ...good, payout: { ...details, amount: '5.0' } })).toBe('payout.amount');
      expect(issue({ ...good, payout: { ...details, authorization: details.authorization.toUpperCase() } })).toBe('payout.authorization');
      expect(issue({ ...good, payout: { ...details, memo: 'x' } })).toBe('payout');
      expect(issue({ ...good, from: { wallet: 'hot', index: 0 } })).toBe('from');
      expect(issue({ ...good, kind: 'refund' })).toBe('kind');
    });
  });
});

describe('the signer configuration on Tron', () => {
  const base = { INFLOW_SIGNER_SOCKET: '/run/inflow/signer.sock', INFLOW_SIGNER_SECRET: 'x'.repeat(32), INFLOW_SIGNER_AUDIT_LOG: '/var/log/inflow/audit.log' };
  const tronTreasury = tronAddressOfKey(Wallet.createRandom().privateKey);
  const tronToken = tronAddressOfKey(Wallet.createRandom().privateKey);

  it('reads the treasury, the token contracts (configured and the registry) and the caps per mode, with their defaults', () => {
    const config = loadSignerConfig({
      ...base,
      INFLOW_TREASURY_TRON_LIVE: tronTreasury,
      INFLOW_TOKEN_TRON_USDT_TEST: tronToken,
      INFLOW_GAS_TOPUP_MAX_SUN_TRON_TEST: '5',
      INFLOW_SIGNER_MAX_FEE_LIMIT_SUN_TRON_TEST: '6',
      INFLOW_ENERGY_DELEGATION_MAX_SUN_TRON_TEST: '7',
      INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON_TEST: '1200',
      INFLOW_SIGNER_MAX_EXPIRATION_SECONDS_TRON_TEST: '120',
    });
    expect(config.tron.live).toMatchObject({
      treasury: tronTreasury,
      gasTopupMaxSun: 100_000_000n,
      maxFeeLimitSun: 100_000_000n,
      delegationMaxSun: 50_000_000_000n,
      delegationMaxLockBlocks: 0,
      maxExpirationMs: 600_000,
    });
    expect([...config.tron.live.tokens]).toEqual([[tronAddressToHex('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'), 'USDT']]);
    expect(config.tron.test).toMatchObject({
      treasury: undefined,
      gasTopupMaxSun: 5n,
      maxFeeLimitSun: 6n,
      delegationMaxSun: 7n,
      delegationMaxLockBlocks: 1200,
      maxExpirationMs: 120_000,
    });
    expect([...config.tron.test.tokens]).toEqual([
      [tronAddressToHex(tronToken), 'USDT'],
      [tronAddressToHex('TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf'), 'USDT'],
    ]);
  });

  it('reads the Tron payout caps in whole units (TRX and USDT have 6 decimals), and says which is wrong', () => {
    expect(loadSignerConfig(base).tron.live.payoutCaps).toEqual(new Map());
    const config = loadSignerConfig({ ...base, INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE: '1000', INFLOW_SIGNER_MAX_PAYOUT_TRON_TRX_TEST: ' 0.5 ' });
    expect(config.tron.live.payoutCaps).toEqual(new Map([['USDT', 1_000_000_000n]]));
    expect(config.tron.test.payoutCaps).toEqual(new Map([['TRX', 500_000n]]));
    // Tron's caps are Tron's alone: no EVM network takes one.
    expect(config.policies.live.ethereum!.payoutCaps).toEqual(new Map());
    expect(() => loadSignerConfig({ ...base, INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE: '1e3' })).toThrow(
      /^inflow signer: INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE must be the most one payout may pay in whole USDT as decimal text/,
    );
    expect(() => loadSignerConfig({ ...base, INFLOW_SIGNER_MAX_PAYOUT_TRON_TRX_LIVE: '0.0000001' })).toThrow(/at most 6 decimal places/);
  });

  it('refuses a treasury or token that is not a base58check Tron address', () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        loadSignerConfig({ ...base, ...env });
      } catch (caught) {
        expect(caught).toBeInstanceOf(SignerConfigError);
        return (caught as Error).message;
      }
      return undefined;
    };
    // One character changed: the checksum fails.
    const broken = tronTreasury.slice(0, -1) + (tronTreasury.endsWith('a') ? 'b' : 'a');
    expect(error({ INFLOW_TREASURY_TRON_LIVE: broken })).toMatch(/INFLOW_TREASURY_TRON_LIVE must be a Tron address \(T…, base58check/);
    expect(error({ INFLOW_TREASURY_TRON_LIVE: '0x0000000000000000000000000000000000000001' })).toMatch(/INFLOW_TREASURY_TRON_LIVE must be a Tron address/);
    expect(error({ INFLOW_TREASURY_TRON_TEST: 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb' })).toMatch(/not the zero address/);
    expect(error({ INFLOW_TOKEN_TRON_USDT_TEST: '0xdAC17F958D2ee523a2206206994597C13D831ec7' })).toMatch(
      /INFLOW_TOKEN_TRON_USDT_TEST must be a Tron contract address/,
    );
    expect(error({ INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON_TEST: '864001' })).toMatch(/must be a whole number from 0 to 864000/);
  });
});
