import { ConfigError, loadConfig, requireSecretKey } from '../../src/config';
import { createTreasuryDeps, stuckAfterBlocks, sweepMinimum } from '../../src/treasury/treasury-deps';

describe('loadConfig', () => {
  const complete = { DATABASE_URL: 'postgres://u:p@db:5432/inflow', TEMPORAL_ADDRESS: 'temporal:7233' };

  it('applies the documented defaults', () => {
    expect(loadConfig(complete)).toEqual({
      databaseUrl: complete.DATABASE_URL,
      temporal: { address: 'temporal:7233', namespace: 'default', taskQueue: 'inflow' },
      port: 3000,
      logLevel: 'info',
      xpubs: { test: { evm: undefined, tron: undefined }, live: { evm: undefined, tron: undefined } },
      staticPrices: { ETH: '3000.00', POL: '0.50', BNB: '600.00', TRX: '0.25', USDT: '1.00', USDC: '1.00', EUR: '1.08' },
      simulatedBlockTimeMs: undefined,
      webhookPolicy: { allowPrivateNetworksInLive: false, allowPrivateNetworksInTest: false, allowLoopbackInTest: false },
      chains: [],
      chainPollMs: 2000,
      chainMaxBlockRange: 2000,
      secretKey: undefined,
      priceFeeds: {},
      allowStaticPricesLive: false,
      dustThresholds: { USDT: '0.01', USDC: '0.01', ETH: '0.000001', BNB: '0.00001', POL: '0.01', TRX: '0.1' },
      rateLimits: {
        reads: 100,
        writes: 100,
        windowSeconds: 1,
        concurrentRequestsPerKey: 25,
        concurrentWritesPerMerchant: 4,
        eventStreamsPerMerchant: 10,
        unauthenticatedPerIp: 20,
      },
      webhookEndpointsPerMode: 16,
      dns: { servers: [], timeoutMs: 5000 },
      publicOrigin: undefined,
      trustedProxies: [],
      healthToken: undefined,
      requestLogRetentionDays: 30,
      payouts: {
        authorizationSecret: undefined,
        liveEnabled: false,
        feeUsdCents: { ethereum: 100n, polygon: 100n, bsc: 100n, arbitrum: 100n, base: 100n, tron: 100n },
        feeBasis: { ethereum: 'fixed', polygon: 'fixed', bsc: 'fixed', arbitrum: 'fixed', base: 'fixed', tron: 'fixed' },
        dailyLimitUsdCents: { test: undefined, live: 1_000_000n },
        approvalAboveUsdCents: undefined,
      },
      treasury: { signer: undefined, sweepIntervalMinutes: 60, sweepIntervals: {}, sweepMinimums: {}, sweepMinimumUsdCents: undefined },
    });
  });

  it('reads the dashboard origin settings and the health token, refusing what would be unsafe or ambiguous', () => {
    const config = loadConfig({
      ...complete,
      INFLOW_PUBLIC_URL: 'https://Pay.Example.com/',
      INFLOW_TRUSTED_PROXIES: '10.0.0.5, ::1',
      INFLOW_HEALTH_TOKEN: 'h'.repeat(32),
    });
    expect([config.publicOrigin, config.trustedProxies, config.healthToken]).toEqual(['https://pay.example.com', ['10.0.0.5', '::1'], 'h'.repeat(32)]);
    expect(() => loadConfig({ ...complete, INFLOW_PUBLIC_URL: 'https://pay.example.com/dashboard' })).toThrow(/INFLOW_PUBLIC_URL/);
    expect(() => loadConfig({ ...complete, INFLOW_TRUSTED_PROXIES: '10.0.0.0/8' })).toThrow(/INFLOW_TRUSTED_PROXIES/);
    expect(() => loadConfig({ ...complete, INFLOW_HEALTH_TOKEN: 'short' })).toThrow(/INFLOW_HEALTH_TOKEN/);
  });

  it('lets test endpoints reach loopback only when INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK is "true"', () => {
    expect(loadConfig(complete).webhookPolicy.allowLoopbackInTest).toBe(false);
    expect(loadConfig({ ...complete, INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true' }).webhookPolicy.allowLoopbackInTest).toBe(true);
    expect(() => loadConfig({ ...complete, INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'yes' })).toThrow(ConfigError);
  });

  it('reads the per-key limits, and names a limit that is not a whole number in range', () => {
    const config = loadConfig({
      ...complete,
      INFLOW_RATE_LIMIT_READS: '500',
      INFLOW_RATE_LIMIT_WRITES: '50',
      INFLOW_RATE_LIMIT_WINDOW_SECONDS: '10',
      INFLOW_CONCURRENT_REQUESTS_PER_KEY: '8',
      INFLOW_CONCURRENT_WRITES_PER_MERCHANT: '3',
      INFLOW_EVENT_STREAMS_PER_MERCHANT: '2',
      INFLOW_UNAUTHENTICATED_REQUESTS_PER_IP: '7',
      INFLOW_WEBHOOK_ENDPOINTS_PER_MODE: '3',
      INFLOW_DNS_SERVERS: '127.0.0.1:5353, [::1]:53',
      INFLOW_DNS_TIMEOUT_MS: '2000',
    });
    expect(config.rateLimits).toEqual({
      reads: 500,
      writes: 50,
      windowSeconds: 10,
      concurrentRequestsPerKey: 8,
      concurrentWritesPerMerchant: 3,
      eventStreamsPerMerchant: 2,
      unauthenticatedPerIp: 7,
    });
    expect([config.webhookEndpointsPerMode, config.dns]).toEqual([3, { servers: ['127.0.0.1:5353', '[::1]:53'], timeoutMs: 2000 }]);
    expect(() => loadConfig({ ...complete, INFLOW_DNS_TIMEOUT_MS: '30000' })).toThrow(
      /^inflow: INFLOW_DNS_TIMEOUT_MS must be a whole number from 100 to 5000$/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_WEBHOOK_ENDPOINTS_PER_MODE: '0' })).toThrow(
      /^inflow: INFLOW_WEBHOOK_ENDPOINTS_PER_MODE must be a whole number/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_RATE_LIMIT_READS: '0' })).toThrow(
      new ConfigError('inflow: INFLOW_RATE_LIMIT_READS must be a whole number from 1 to 1000000'),
    );
    expect(() => loadConfig({ ...complete, INFLOW_RATE_LIMIT_WRITES: 'lots' })).toThrow(
      /^inflow: INFLOW_RATE_LIMIT_WRITES must be a whole number from 1 to 1000000$/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_RATE_LIMIT_WINDOW_SECONDS: '1.5' })).toThrow(
      /^inflow: INFLOW_RATE_LIMIT_WINDOW_SECONDS must be a whole number from 1 to 3600$/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_CONCURRENT_REQUESTS_PER_KEY: '-1' })).toThrow(
      /^inflow: INFLOW_CONCURRENT_REQUESTS_PER_KEY must be a whole number/,
    );
  });

  it('reads INFLOW_SECRET_KEY as 32 bytes, in hex or base64, and asks for it where a process needs it', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ ...complete, INFLOW_SECRET_KEY: hex }).secretKey).toEqual(Buffer.from(hex, 'hex'));
    expect(loadConfig({ ...complete, INFLOW_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).secretKey).toEqual(Buffer.alloc(32, 7));
    for (const bad of ['ab'.repeat(16), 'not a key', Buffer.alloc(31).toString('base64')]) {
      expect(() => loadConfig({ ...complete, INFLOW_SECRET_KEY: bad })).toThrow(/^inflow: INFLOW_SECRET_KEY must be 32 random bytes/);
    }
    expect(() => requireSecretKey(loadConfig(complete))).toThrow(/^inflow: missing environment variable INFLOW_SECRET_KEY/);
    expect(() => loadConfig(complete, ['DATABASE_URL', 'INFLOW_SECRET_KEY'])).toThrow(/missing environment variable INFLOW_SECRET_KEY/);
  });

  it('reads the price feeds of each mode, through the node of INFLOW_PRICE_FEED_NETWORK', () => {
    const eth = '0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419';
    const eur = '0xb49f677943BC038e9857d61E7d053CaA2C1734C1';
    const config = loadConfig({
      ...complete,
      INFLOW_RPC_URL_ETHEREUM_LIVE: 'https://eth.example',
      INFLOW_PRICE_FEEDS_LIVE: `ETH=${eth}:3600, eur=${eur}:86400`,
    });
    expect(config.priceFeeds).toEqual({
      live: { rpcUrl: 'https://eth.example', feeds: { ETH: { address: eth, heartbeatSeconds: 3600 }, EUR: { address: eur, heartbeatSeconds: 86400 } } },
    });
    expect(() => loadConfig({ ...complete, INFLOW_PRICE_FEEDS_TEST: `ETH=${eth}:3600` })).toThrow(/INFLOW_PRICE_FEEDS_TEST needs INFLOW_RPC_URL_ETHEREUM_TEST/);
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_ETHEREUM_TEST: 'http://x', INFLOW_PRICE_FEEDS_TEST: 'ETH=0x12:60' })).toThrow(
      /entry "ETH=0x12:60" is not CURRENCY=0xAGGREGATOR:HEARTBEAT_SECONDS/,
    );
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({ ...complete, TEMPORAL_NAMESPACE: 'payments', TEMPORAL_TASK_QUEUE: 'q', PORT: '8080', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ temporal: { namespace: 'payments', taskQueue: 'q' }, port: 8080, logLevel: 'debug' });
  });

  it('reads the request log retention in whole days from 1 to 3650', () => {
    expect(loadConfig({ ...complete, INFLOW_REQUEST_LOG_RETENTION_DAYS: '7' }).requestLogRetentionDays).toBe(7);
    expect(() => loadConfig({ ...complete, INFLOW_REQUEST_LOG_RETENTION_DAYS: '0' })).toThrow(
      'inflow: INFLOW_REQUEST_LOG_RETENTION_DAYS must be a whole number from 1 to 3650',
    );
  });

  it('names every missing variable in one line, with an example', () => {
    expect(() => loadConfig({})).toThrow(
      new ConfigError(
        'inflow: missing environment variables DATABASE_URL (e.g. postgres://inflow:secret@localhost:5432/inflow), TEMPORAL_ADDRESS (e.g. localhost:7233)',
      ),
    );
  });

  it('refuses one key for both modes of a family, naming both variables', () => {
    expect(() => loadConfig({ ...complete, INFLOW_XPUB_TRON_TEST: 'xpubA', INFLOW_XPUB_TRON_LIVE: ' xpubA' })).toThrow(
      'inflow: INFLOW_XPUB_TRON_TEST and INFLOW_XPUB_TRON_LIVE are the same key: test and live addresses must come from different keys',
    );
  });

  it('reads the xpubs of each mode and family', () => {
    const config = loadConfig({ ...complete, INFLOW_XPUB_EVM_TEST: ' xpubA ', INFLOW_XPUB_TRON_LIVE: 'xpubB' });
    expect(config.xpubs).toEqual({ test: { evm: 'xpubA', tron: undefined }, live: { evm: undefined, tron: 'xpubB' } });
  });

  it('watches an EVM chain when its node is configured, with the registry tokens of that mode or overrides', () => {
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const config = loadConfig({
      ...complete,
      INFLOW_RPC_URL_ETHEREUM_TEST: 'http://127.0.0.1:8545',
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: token,
      INFLOW_RPC_URL_BASE_LIVE: 'https://base.example',
    });
    expect(config.chains).toEqual([
      {
        network: 'ethereum',
        family: 'evm',
        livemode: false,
        rpcUrls: ['http://127.0.0.1:8545'],
        quorum: 1,
        headers: {},
        tokens: [{ currency: 'USDT', address: token }],
        pollMs: 2000,
        requiredConfirmations: 12,
      },
      {
        network: 'base',
        family: 'evm',
        livemode: true,
        rpcUrls: ['https://base.example'],
        quorum: 1,
        headers: {},
        tokens: [{ currency: 'USDC', address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' }],
        pollMs: 2000,
        requiredConfirmations: 40,
      },
    ]);
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_ETHEREUM_TEST: 'localhost:8545' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_ETHEREUM_TEST: 'http://x', INFLOW_TOKEN_ETHEREUM_USDT_TEST: 'nope' })).toThrow(
      /INFLOW_TOKEN_ETHEREUM_USDT_TEST/,
    );
  });

  it('reads a chain from several nodes, with a quorum no larger than their number', () => {
    const config = loadConfig({
      ...complete,
      INFLOW_RPC_URL_ETHEREUM_LIVE: 'https://a.example/v3/key, https://b.example',
      INFLOW_RPC_QUORUM_ETHEREUM_LIVE: '2',
    });
    expect(config.chains).toMatchObject([{ network: 'ethereum', livemode: true, rpcUrls: ['https://a.example/v3/key', 'https://b.example'], quorum: 2 }]);
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_ETHEREUM_LIVE: 'https://a.example', INFLOW_RPC_QUORUM_ETHEREUM_LIVE: '2' })).toThrow(
      /INFLOW_RPC_QUORUM_ETHEREUM_LIVE must be a whole number from 1 to 1/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_ETHEREUM_LIVE: 'https://a.example,b.example' })).toThrow(/must be an http\(s\) URL, or several/);
  });

  it('reads dust thresholds over the defaults, and names an entry it cannot read', () => {
    expect(loadConfig({ ...complete, INFLOW_DUST_THRESHOLDS: 'usdt=0.5,ETH=0' }).dustThresholds).toMatchObject({ USDT: '0.5', ETH: '0', TRX: '0.1' });
    expect(() => loadConfig({ ...complete, INFLOW_DUST_THRESHOLDS: 'USDT=lots' })).toThrow(/INFLOW_DUST_THRESHOLDS entry "USDT=lots" is not CURRENCY=AMOUNT/);
  });

  it('watches Tron like EVM, with a hosted provider key, and per network and mode poll interval and confirmations', () => {
    const config = loadConfig({
      ...complete,
      INFLOW_RPC_URL_TRON_LIVE: 'https://api.trongrid.io',
      INFLOW_RPC_HEADERS_TRON_LIVE: 'TRON-PRO-API-KEY=abc-123',
      INFLOW_CHAIN_POLL_MS_TRON_LIVE: '3000',
      INFLOW_CONFIRMATIONS_TRON_LIVE: '27',
      INFLOW_RPC_URL_TRON_TEST: 'http://127.0.0.1:8090',
      INFLOW_TOKEN_TRON_USDT_TEST: 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf',
    });
    expect(config.chains).toEqual([
      {
        network: 'tron',
        family: 'tron',
        livemode: false,
        rpcUrls: ['http://127.0.0.1:8090'],
        quorum: 1,
        headers: {},
        tokens: [{ currency: 'USDT', address: 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf' }],
        pollMs: 2000,
        requiredConfirmations: 19,
      },
      {
        network: 'tron',
        family: 'tron',
        livemode: true,
        rpcUrls: ['https://api.trongrid.io'],
        quorum: 1,
        headers: { 'TRON-PRO-API-KEY': 'abc-123' },
        tokens: [{ currency: 'USDT', address: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t' }],
        pollMs: 3000,
        requiredConfirmations: 27,
      },
    ]);
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_TRON_TEST: 'http://x', INFLOW_TOKEN_TRON_USDT_TEST: 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBg' })).toThrow(
      /INFLOW_TOKEN_TRON_USDT_TEST must be a contract address \(T…, base58check\)/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_TRON_TEST: 'http://x', INFLOW_CONFIRMATIONS_TRON_TEST: '0' })).toThrow(
      /INFLOW_CONFIRMATIONS_TRON_TEST must be a whole number/,
    );
    expect(() => loadConfig({ ...complete, INFLOW_RPC_URL_TRON_TEST: 'http://x', INFLOW_RPC_HEADERS_TRON_TEST: 'secret stuff' })).toThrow(
      /INFLOW_RPC_HEADERS_TRON_TEST entry/,
    );
  });

  it('reads the treasury: the signer both ways or not at all, and sweep minimums checked against each currency', () => {
    const config = loadConfig({
      ...complete,
      INFLOW_SIGNER_SOCKET: '/run/inflow/signer.sock',
      INFLOW_SIGNER_SECRET: 's'.repeat(32),
      INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST: '1.5',
      INFLOW_SWEEP_INTERVAL_MINUTES: '15',
    });
    expect(config.treasury).toEqual({
      signer: { socketPath: '/run/inflow/signer.sock', secret: 's'.repeat(32) },
      sweepIntervalMinutes: 15,
      sweepIntervals: {},
      sweepMinimums: { ETHEREUM_USDT_TEST: '1.5' },
      sweepMinimumUsdCents: undefined,
    });
    expect(sweepMinimum(config.treasury.sweepMinimums, 'ethereum', 'USDT', false)).toBe(1_500_000n);
    expect(sweepMinimum(config.treasury.sweepMinimums, 'ethereum', 'ETH', false)).toBe(10n ** 15n);
    expect(sweepMinimum(config.treasury.sweepMinimums, 'ethereum', 'USDT', true)).toBe(1n);
    expect(() => createTreasuryDeps({ ...config, treasury: { ...config.treasury, sweepMinimums: { ETHEREUM_USDT_TEST: '0.0000001' } } })).toThrow(
      'INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST must be a decimal amount with at most 6 decimals',
    );
    expect(() => createTreasuryDeps({ ...config, treasury: { ...config.treasury, sweepMinimums: { MOON_USDT_TEST: '1' } } })).toThrow(
      'INFLOW_SWEEP_MIN_MOON_USDT_TEST names no supported network and currency',
    );
  });

  it("counts a treasury transaction stuck after about two minutes of its network's blocks, never fewer than 10", () => {
    expect(Object.fromEntries((['ethereum', 'bsc', 'polygon', 'base', 'arbitrum'] as const).map((network) => [network, stuckAfterBlocks(network)]))).toEqual({
      ethereum: 10,
      bsc: 40,
      polygon: 60,
      base: 60,
      arbitrum: 480,
    });
  });

  it('takes a USD sweep minimum and per-network sweep intervals', () => {
    const treasury = loadConfig({ ...complete, INFLOW_SWEEP_MIN_USD: '12.50', INFLOW_SWEEP_INTERVAL_MINUTES_TRON: '15' }).treasury;
    expect(treasury).toMatchObject({ sweepMinimumUsdCents: 1250n, sweepIntervalMinutes: 60, sweepIntervals: { tron: 15 } });
    expect(loadConfig(complete).treasury).toMatchObject({ sweepMinimumUsdCents: undefined, sweepIntervals: {} });
  });

  it('takes an operator webhook as a URL and a whsec_ secret together', () => {
    const secret = `whsec_${'A'.repeat(43)}=`;
    expect(
      loadConfig({ ...complete, INFLOW_OPERATOR_WEBHOOK_URL: 'https://ops.example.com/inflow', INFLOW_OPERATOR_WEBHOOK_SECRET: secret }).operatorWebhook,
    ).toEqual({
      url: 'https://ops.example.com/inflow',
      secret,
    });
    expect(loadConfig(complete).operatorWebhook).toBeUndefined();
  });

  it('reads payouts: off without an authorization secret, live ones off unless enabled, a USD fee per network', () => {
    const payouts = loadConfig({
      ...complete,
      INFLOW_PAYOUT_AUTHORIZATION_SECRET: 'p'.repeat(32),
      INFLOW_PAYOUTS_LIVE: 'enabled',
      INFLOW_PAYOUT_FEE_USD: '0.50',
      INFLOW_PAYOUT_FEE_USD_ETHEREUM: '5',
      INFLOW_PAYOUT_DAILY_LIMIT_USD_TEST: '100',
      INFLOW_PAYOUT_APPROVAL_ABOVE_USD: '2500.50',
      INFLOW_PAYOUT_FEE_BASIS_TRON: 'measured',
    }).payouts;
    expect(payouts).toEqual({
      authorizationSecret: 'p'.repeat(32),
      liveEnabled: true,
      feeUsdCents: { ethereum: 500n, polygon: 50n, bsc: 50n, arbitrum: 50n, base: 50n, tron: 50n },
      feeBasis: { ethereum: 'fixed', polygon: 'fixed', bsc: 'fixed', arbitrum: 'fixed', base: 'fixed', tron: 'measured' },
      dailyLimitUsdCents: { test: 10_000n, live: 1_000_000n },
      approvalAboveUsdCents: 250_050n,
    });
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUT_AUTHORIZATION_SECRET: 'short' })).toThrow(/INFLOW_PAYOUT_AUTHORIZATION_SECRET/);
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUT_FEE_USD_MOON: '1' })).toThrow(/INFLOW_PAYOUT_FEE_USD_MOON names no supported network/);
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUT_FEE_USD_BASE: '1.234' })).toThrow(/INFLOW_PAYOUT_FEE_USD_BASE must be a USD amount/);
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUTS_LIVE: 'yes' })).toThrow(/INFLOW_PAYOUTS_LIVE/);
    expect(loadConfig({ ...complete, INFLOW_PAYOUT_FEE_BASIS: 'measured', INFLOW_PAYOUT_FEE_BASIS_BASE: 'fixed' }).payouts.feeBasis).toMatchObject({
      ethereum: 'measured',
      base: 'fixed',
    });
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUT_FEE_BASIS_TRON: 'gas' })).toThrow(/INFLOW_PAYOUT_FEE_BASIS_TRON must be fixed or measured/);
    expect(() => loadConfig({ ...complete, INFLOW_PAYOUT_FEE_BASIS: 'gas' })).toThrow(/INFLOW_PAYOUT_FEE_BASIS/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...complete, PORT: '', TEMPORAL_NAMESPACE: '' })).toMatchObject({ port: 3000, temporal: { namespace: 'default' } });
  });

  it('asks only for what the process needs', () => {
    expect(loadConfig({ DATABASE_URL: complete.DATABASE_URL }, ['DATABASE_URL']).databaseUrl).toBe(complete.DATABASE_URL);
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'inflow: DATABASE_URL must be a postgres:// connection URL'],
    [{ TEMPORAL_ADDRESS: 'http://temporal:7233' }, 'inflow: TEMPORAL_ADDRESS must be host:port, e.g. localhost:7233'],
    [{ PORT: 'eighty' }, expect.stringMatching(/^inflow: PORT /)],
    [{ PORT: '70000' }, expect.stringMatching(/^inflow: PORT /)],
    [{ PORT: '0' }, expect.stringMatching(/^inflow: PORT /)],
    [{ INFLOW_STATIC_PRICES: 'ETH=-1' }, expect.stringMatching(/^inflow: INFLOW_STATIC_PRICES entry "ETH=-1"/)],
    [{ INFLOW_SIGNER_SOCKET: '/run/inflow/signer.sock' }, expect.stringMatching(/^inflow: INFLOW_SIGNER_SOCKET and INFLOW_SIGNER_SECRET go together/)],
    [{ INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST: 'lots' }, 'inflow: INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST must be a decimal amount such as 0.5'],
    [{ INFLOW_SWEEP_MIN_USD: '$5' }, 'inflow: INFLOW_SWEEP_MIN_USD must be a USD amount such as 25 or 2.50'],
    [{ INFLOW_SWEEP_INTERVAL_MINUTES_DOGE: '5' }, expect.stringMatching(/^inflow: INFLOW_SWEEP_INTERVAL_MINUTES_DOGE names no supported network/)],
    [{ INFLOW_SWEEP_INTERVAL_MINUTES_TRON: '0' }, 'inflow: INFLOW_SWEEP_INTERVAL_MINUTES_TRON must be a whole number from 1 to 10080'],
    [
      { INFLOW_OPERATOR_WEBHOOK_URL: 'https://ops.example.com/inflow' },
      expect.stringMatching(/^inflow: INFLOW_OPERATOR_WEBHOOK_URL and INFLOW_OPERATOR_WEBHOOK_SECRET go together: set the secret/),
    ],
    [
      { INFLOW_OPERATOR_WEBHOOK_URL: 'ftp://ops.example.com', INFLOW_OPERATOR_WEBHOOK_SECRET: `whsec_${'A'.repeat(44)}` },
      expect.stringMatching(/^inflow: INFLOW_OPERATOR_WEBHOOK_URL must be an http\(s\) URL/),
    ],
    [
      { INFLOW_OPERATOR_WEBHOOK_URL: 'https://ops.example.com', INFLOW_OPERATOR_WEBHOOK_SECRET: 'hunter2' },
      expect.stringMatching(/^inflow: INFLOW_OPERATOR_WEBHOOK_SECRET must be whsec_/),
    ],
  ])('rejects a malformed value in one line: %j', (override, message) => {
    let thrown: unknown;
    try {
      loadConfig({ ...complete, ...override });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toEqual(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});
