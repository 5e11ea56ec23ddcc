import { testHealthToken, testMnemonics, testSecretKeyHex } from '../../dev/fixtures';
import { generateMnemonic, xpubsFromMnemonic } from '../../src/chains/derivation';

/**
 * What `npm run api` and `npm run worker` read in a multi-process test stack (the chaos runs, the
 * topology test), besides where Postgres, Temporal (dev/stack.ts adds those) and the chain run:
 * test-mode addresses from a throw-away mnemonic (not anvil's, whose first account sends the
 * transfers), and fast chain settings.
 */
export function testStackEnv(settings: { requiredConfirmations: number; chainPollMs: number; simulatedBlockTimeMs: number }): NodeJS.ProcessEnv {
  const test = xpubsFromMnemonic(generateMnemonic());
  const live = xpubsFromMnemonic(testMnemonics.live);
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    INFLOW_SECRET_KEY: testSecretKeyHex,
    // The stack's receivers listen on loopback, which a development stack allows.
    INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
    INFLOW_HEALTH_TOKEN: testHealthToken,
    INFLOW_XPUB_EVM_TEST: test.evm,
    INFLOW_XPUB_TRON_TEST: test.tron,
    INFLOW_XPUB_EVM_LIVE: live.evm,
    INFLOW_XPUB_TRON_LIVE: live.tron,
    INFLOW_CONFIRMATIONS_ETHEREUM_TEST: String(settings.requiredConfirmations),
    INFLOW_CHAIN_POLL_MS: String(settings.chainPollMs),
    INFLOW_SIMULATED_BLOCK_TIME_MS: String(settings.simulatedBlockTimeMs),
  };
}

/** A devnet (or the proxy in front of it) as test-mode ethereum, with its test USDT, watched from `startBlock`. */
export function ethereumTestEnv(chain: { rpcUrl: string; usdtAddress: string; startBlock: number }): Record<string, string> {
  return {
    INFLOW_RPC_URL_ETHEREUM_TEST: chain.rpcUrl,
    INFLOW_TOKEN_ETHEREUM_USDT_TEST: chain.usdtAddress,
    INFLOW_TRACE_ETHEREUM_TEST: 'callTracer',
    INFLOW_CHAIN_START_BLOCK_ETHEREUM_TEST: String(chain.startBlock),
  };
}
