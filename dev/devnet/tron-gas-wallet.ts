/**
 * On the Tron devnet stand-in, what an operator does by hand for a live Tron gas wallet
 * (docs/treasury.md#on-tron): fund it with TRX and stake part of it for energy, so Tron token
 * sweeps borrow energy instead of burning TRX. Done once: a wallet already staked is left alone.
 * The stake is signed here with the development wallet's key (dev/devnet/tron-signing.ts): the
 * signer signs no FreezeBalanceV2.
 */
import { tronAddressOfKey } from '../../src/chains/tron/transaction';
import type { Log } from '../tools/progress';
import { signTransactionId } from './tron-signing';

const TRX = 1_000_000n;
/** TRX sent to the gas wallet, and the part of it staked for energy (1,000,000 energy a day on the stand-in: a dozen or so USDT sweeps). */
export const DEVNET_GAS_WALLET_TRX = 150_000n * TRX;
export const DEVNET_GAS_WALLET_STAKE = 100_000n * TRX;

export async function prepareTronGasWallet(rpcUrl: string, key: string, log: Log): Promise<void> {
  const address = tronAddressOfKey(key);
  const call = async (endpoint: string, body: object) => {
    const response = await fetch(new URL(endpoint, rpcUrl), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as Record<string, any>;
  };
  const account = () => call('/wallet/getaccount', { address, visible: true });
  const staked = (found: Record<string, any>) =>
    BigInt((found.frozenV2 as Array<{ type?: string; amount?: number }> | undefined)?.find((entry) => entry.type === 'ENERGY')?.amount ?? 0);
  const until = async (what: string, done: (found: Record<string, any>) => boolean) => {
    const deadline = Date.now() + 60_000;
    while (!done(await account())) {
      if (Date.now() > deadline) throw new Error(`the Tron devnet did not mine ${what} within a minute`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  if (staked(await account()) >= DEVNET_GAS_WALLET_STAKE) return;
  if (BigInt((await account()).balance ?? 0) < DEVNET_GAS_WALLET_STAKE) {
    await call('/devnet/transfer', { to: address, amount: DEVNET_GAS_WALLET_TRX.toString(), currency: 'TRX' });
    await until('the gas wallet funding', (found) => BigInt(found.balance ?? 0) >= DEVNET_GAS_WALLET_STAKE);
  }
  const freeze = await call('/wallet/freezebalancev2', {
    owner_address: address,
    frozen_balance: Number(DEVNET_GAS_WALLET_STAKE),
    resource: 'ENERGY',
    visible: true,
  });
  if (typeof freeze.txID !== 'string') throw new Error(`the Tron devnet would not build the gas wallet's stake: ${JSON.stringify(freeze)}`);
  const sent = await call('/wallet/broadcasttransaction', { ...freeze, signature: [signTransactionId(freeze.txID, key)] });
  if (sent.result !== true) throw new Error(`the Tron devnet refused the gas wallet's stake: ${JSON.stringify(sent)}`);
  await until('the gas wallet stake', (found) => staked(found) >= DEVNET_GAS_WALLET_STAKE);
  log(`signer: sent the Tron gas wallet ${address} ${DEVNET_GAS_WALLET_TRX / TRX} TRX on the devnet and staked ${DEVNET_GAS_WALLET_STAKE / TRX} for energy`);
}

/** TRX sent to the Tron hot wallet (the development treasury) when it holds less than a tenth of it: its payouts burn TRX for energy and bandwidth. */
export const DEVNET_HOT_WALLET_TRX = 1_000n * TRX;

/** On the Tron devnet: what an operator does by hand for the hot wallet, TRX for its payouts' fees (sweeps bring it the tokens). */
export async function fundTronHotWallet(rpcUrl: string, address: string, log: Log): Promise<void> {
  const call = async (endpoint: string, body: object) => {
    const response = await fetch(new URL(endpoint, rpcUrl), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as Record<string, any>;
  };
  if (BigInt((await call('/wallet/getaccount', { address, visible: true })).balance ?? 0) >= DEVNET_HOT_WALLET_TRX / 10n) return;
  await call('/devnet/transfer', { to: address, amount: DEVNET_HOT_WALLET_TRX.toString(), currency: 'TRX' });
  log(`signer: sent the Tron hot wallet ${address} ${DEVNET_HOT_WALLET_TRX / TRX} TRX on the devnet for its payouts' fees`);
}
