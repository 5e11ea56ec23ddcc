/** `npm run cli -- devnet send`: a real transfer on the local devnet from its funded account. */
import { isAddress, JsonRpcProvider, parseEther, parseUnits } from 'ethers';
import { dataDir as defaultDataDir } from '../tools/paths';
import { ensureTestUsdt, fundedSigner } from './anvil';
import { readDevnetInfo } from './devnet';

export async function devnetSend(options: { to: string; amount: string; currency: string }): Promise<string> {
  if (!isAddress(options.to)) throw new Error(`--to must be an EVM address, got "${options.to}"`);
  const info = await readDevnetInfo(process.env.INFLOW_DEV_DATA_DIR || defaultDataDir);
  if (!info) throw new Error('no devnet found: start it with `npm run dev`');
  const provider = new JsonRpcProvider(info.rpcUrl, undefined, { staticNetwork: true });
  try {
    const signer = fundedSigner(provider);
    const currency = options.currency.toUpperCase();
    let hash: string;
    if (currency === 'ETH') {
      hash = (await signer.sendTransaction({ to: options.to, value: parseEther(options.amount) })).hash;
    } else if (currency === 'USDT') {
      const usdt = await ensureTestUsdt(signer, info.usdtAddress);
      hash = ((await usdt.getFunction('transfer')(options.to, parseUnits(options.amount, 6))) as { hash: string }).hash;
    } else {
      throw new Error(`--currency must be ETH or USDT on the devnet, got "${options.currency}"`);
    }
    await provider.waitForTransaction(hash);
    return hash;
  } finally {
    provider.destroy();
  }
}
