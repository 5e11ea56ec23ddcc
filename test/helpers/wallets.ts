import { AddressDeriver, xpubsFromMnemonic } from '../../src/chains/derivation';
import type { Mode } from '../../src/domain/api-keys';

/** Public test mnemonics: anvil's default for test mode (its accounts hold devnet ETH), BIP-39's first vector for live. */
export const testMnemonics: Record<Mode, string> = {
  test: 'test test test test test test test test test test test junk',
  live: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
};

export function testDerivers(): Record<Mode, AddressDeriver> {
  return { test: new AddressDeriver(xpubsFromMnemonic(testMnemonics.test)), live: new AddressDeriver(xpubsFromMnemonic(testMnemonics.live)) };
}

/** The same keys as the environment variables the production processes read. */
export function testXpubEnv(): Record<string, string> {
  const test = xpubsFromMnemonic(testMnemonics.test);
  const live = xpubsFromMnemonic(testMnemonics.live);
  return {
    INFLOW_XPUB_EVM_TEST: test.evm,
    INFLOW_XPUB_TRON_TEST: test.tron,
    INFLOW_XPUB_EVM_LIVE: live.evm,
    INFLOW_XPUB_TRON_LIVE: live.tron,
  };
}
