/** `npm run cli -- devnet send`: a real transfer on a local devnet from its funded account. */
import { isAddress, JsonRpcProvider, parseEther, parseUnits } from 'ethers';
import { isTronAddress } from '../../src/chains/tron/address';
import { AmountFormatError, parseAmount } from '../../src/domain/money';
import { dataDir as defaultDataDir } from '../tools/paths';
import { ensureTestUsdt, fundedSigner } from './anvil';
import { readDevnetInfo, type DevnetInfo } from './devnet';

export async function devnetSend(options: { network: string; to: string; amount: string; currency: string }): Promise<string> {
  const info = await readDevnetInfo(process.env.INFLOW_DEV_DATA_DIR || defaultDataDir);
  if (!info) throw new Error('no devnet found: start it with `npm run dev`');
  if (options.network === 'tron') return sendOnTron(info, options);
  if (options.network !== 'ethereum') throw new Error(`--network must be ethereum or tron on the devnets, got "${options.network}"`);
  if (!isAddress(options.to)) throw new Error(`--to must be an EVM address, got "${options.to}"`);
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

/** On the Tron devnet stand-in, through its own transfer endpoint (a real node would need a signed transaction). */
async function sendOnTron(info: DevnetInfo, options: { to: string; amount: string; currency: string }): Promise<string> {
  if (!info.tron) throw new Error('this devnet has no Tron network: restart `npm run dev`');
  if (!isTronAddress(options.to)) throw new Error(`--to must be a Tron address (T…, base58check with a valid checksum), got "${options.to}"`);
  const currency = options.currency.toUpperCase();
  if (currency !== 'TRX' && currency !== 'USDT') throw new Error(`--currency must be TRX or USDT on the Tron devnet, got "${options.currency}"`);
  let amount: bigint;
  try {
    amount = parseAmount(options.amount, 6);
  } catch (error) {
    if (error instanceof AmountFormatError) throw new Error(`--amount: ${error.message} (${currency} has 6 decimals)`);
    throw error;
  }
  const response = await fetch(`${info.tron.rpcUrl}/devnet/transfer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ to: options.to, amount: amount.toString(), currency }),
  });
  const answer = (await response.json()) as { txid?: string; Error?: string };
  if (!answer.txid) throw new Error(`the Tron devnet refused the transfer: ${answer.Error ?? response.status}`);
  return answer.txid;
}
