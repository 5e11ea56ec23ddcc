/** `npm run cli -- devnet send`: a real transfer on a local devnet from its funded account. */
import { formatUnits, getAddress, isAddress, JsonRpcProvider, parseEther, parseUnits } from 'ethers';
import { isTronAddress } from '../../src/chains/tron/address';
import { AmountFormatError, parseAmount } from '../../src/domain/money';
import { dataDir as defaultDataDir } from '../tools/paths';
import { ensureTestUsdt, fundedSigner } from './anvil';
import { setTimeout as sleep } from 'node:timers/promises';
import { readDevnetInfo, type DevnetInfo } from './devnet';
import { TRON_FUNDED_ADDRESS } from './tron-devnet';

/** What `devnet send` did: said in full, with what inflow does next. */
export interface SentTransfer {
  network: 'ethereum' | 'tron';
  currency: string;
  amount: string;
  from: string;
  to: string;
  hash: string;
  /** The block it is in, or undefined when it was not mined within the wait. */
  block: number | undefined;
  /** The devnet's block time, when its file records it. */
  blockTimeSeconds: number | undefined;
}

export async function devnetSend(options: { network: string; to: string; amount: string; currency: string }): Promise<SentTransfer> {
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
    let amount: string;
    if (currency === 'ETH') {
      const value = parseEther(options.amount);
      amount = decimal(value, 18);
      hash = (await signer.sendTransaction({ to: options.to, value })).hash;
    } else if (currency === 'USDT') {
      const usdt = await ensureTestUsdt(signer, info.usdtAddress);
      const value = parseUnits(options.amount, 6);
      amount = decimal(value, 6);
      hash = ((await usdt.getFunction('transfer')(options.to, value)) as { hash: string }).hash;
    } else {
      throw new Error(`--currency must be ETH or USDT on the devnet, got "${options.currency}"`);
    }
    const receipt = await provider.waitForTransaction(hash);
    return {
      network: 'ethereum',
      currency,
      amount,
      from: await signer.getAddress(),
      to: getAddress(options.to),
      hash,
      block: receipt?.blockNumber,
      blockTimeSeconds: info.blockTimeSeconds,
    };
  } finally {
    provider.destroy();
  }
}

/** On the Tron devnet stand-in, through its own transfer endpoint (a real node would need a signed transaction). */
async function sendOnTron(info: DevnetInfo, options: { to: string; amount: string; currency: string }): Promise<SentTransfer> {
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
  return {
    network: 'tron',
    currency,
    amount: decimal(amount, 6),
    from: TRON_FUNDED_ADDRESS,
    to: options.to,
    hash: answer.txid,
    block: await tronBlockOf(info.tron.rpcUrl, answer.txid, (info.blockTimeSeconds ?? 3) * 3_000),
    blockTimeSeconds: info.blockTimeSeconds,
  };
}

/** `25`, `0.5`: the amount in whole units, as exact as given, without ethers' trailing `.0`. */
function decimal(units: bigint, decimals: number): string {
  return formatUnits(units, decimals).replace(/\.0$/, '');
}

/** The block the stand-in mined the transaction into (it goes into the next block), asked as of java-tron; undefined after `withinMs`. */
async function tronBlockOf(rpcUrl: string, txid: string, withinMs: number): Promise<number | undefined> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const info = (await fetch(`${rpcUrl}/wallet/gettransactioninfobyid`, { method: 'POST', body: JSON.stringify({ value: txid }) })
      .then((response) => response.json())
      .catch(() => ({}))) as { blockNumber?: number };
    if (typeof info.blockNumber === 'number') return info.blockNumber;
    await sleep(200);
  }
  return undefined;
}
