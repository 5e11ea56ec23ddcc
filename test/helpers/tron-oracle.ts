import { HDNodeWallet, Mnemonic } from 'ethers';
import { testMnemonics } from '../../dev/fixtures';
import { tronAddressToHex } from '../../src/chains/tron/address';

/**
 * A test's oracle on a Tron node (the stand-in): its java-tron endpoints read directly, never
 * through the code under test. `node` is asked lazily, so a file can make it before its devnet starts.
 */
export function tronOracle(node: () => { rpcUrl: string; usdtAddress: string }) {
  const call = async (endpoint: string, body: unknown = {}) =>
    (await fetch(`${node().rpcUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>;
  return {
    call,
    /** The TRX balance, sun (0 for an address with no account). */
    trxOf: async (address: string) => BigInt((await call('/wallet/getaccount', { address, visible: true })).balance ?? 0),
    /** The USDT balance, base units, from the contract's balanceOf. */
    usdtOf: async (address: string) => {
      const answer = await call('/wallet/triggerconstantcontract', {
        owner_address: address,
        contract_address: node().usdtAddress,
        function_selector: 'balanceOf(address)',
        parameter: tronAddressToHex(address)!.slice(2).padStart(64, '0'),
        visible: true,
      });
      return BigInt(`0x${answer.constant_result[0]}`);
    },
    /** A transaction's info: `{}` until it is in a block. */
    infoOf: (txID: string) => call('/wallet/gettransactioninfobyid', { value: txID }),
  };
}

/** The test mnemonic's Tron gas wallet key (m/44'/195'/1'/0/0), as the operator holds it to stake: the signer signs no FreezeBalanceV2. */
export const testTronGasWalletKey = HDNodeWallet.fromSeed(Mnemonic.fromPhrase(testMnemonics.test).computeSeed()).derivePath("m/44'/195'/1'/0/0").privateKey;
