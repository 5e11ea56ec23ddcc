import { Interface, Wallet } from 'ethers';
import { loadSignerConfig, SignerConfigError, type SignerNetworkPolicy } from '../../src/signer/config';
import { decide, decodeTransfer, encodeTransfer } from '../../src/signer/policy';
import { SignRequestSchema, type SignRequest } from '../../src/treasury/signer-protocol';

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
    expect(error({ ...base, INFLOW_TREASURY_TRON_LIVE: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t' })).toMatch(/EVM networks only/);
  });
});
