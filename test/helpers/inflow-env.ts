import { testHealthToken, testMnemonics, testSecretKeyHex } from '../../dev/fixtures';
import { generateMnemonic, xpubsFromMnemonic } from '../../src/chains/derivation';

/**
 * What `npm run api` and `npm run worker` read in a multi-process test stack (the chaos run, the
 * topology test): its addresses, test-mode addresses from a throw-away mnemonic (not anvil's, whose
 * first account sends the transfers), the devnet as test-mode ethereum, and fast chain settings.
 */
export function testStackEnv(options: {
  databaseUrl: string;
  temporalAddress: string;
  rpcUrl: string;
  usdtAddress: string;
  startBlock: number;
  requiredConfirmations: number;
  chainPollMs: number;
  simulatedBlockTimeMs: number;
}): NodeJS.ProcessEnv {
  const test = xpubsFromMnemonic(generateMnemonic());
  const live = xpubsFromMnemonic(testMnemonics.live);
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: options.databaseUrl,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'info',
    INFLOW_SECRET_KEY: testSecretKeyHex,
    // The stack's receivers listen on loopback, which a development stack allows.
    INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
    INFLOW_HEALTH_TOKEN: testHealthToken,
    INFLOW_XPUB_EVM_TEST: test.evm,
    INFLOW_XPUB_TRON_TEST: test.tron,
    INFLOW_XPUB_EVM_LIVE: live.evm,
    INFLOW_XPUB_TRON_LIVE: live.tron,
    INFLOW_RPC_URL_ETHEREUM_TEST: options.rpcUrl,
    INFLOW_TOKEN_ETHEREUM_USDT_TEST: options.usdtAddress,
    INFLOW_TRACE_ETHEREUM_TEST: 'callTracer',
    INFLOW_CONFIRMATIONS_ETHEREUM_TEST: String(options.requiredConfirmations),
    INFLOW_CHAIN_START_BLOCK_ETHEREUM_TEST: String(options.startBlock),
    INFLOW_CHAIN_POLL_MS: String(options.chainPollMs),
    INFLOW_SIMULATED_BLOCK_TIME_MS: String(options.simulatedBlockTimeMs),
  };
}
