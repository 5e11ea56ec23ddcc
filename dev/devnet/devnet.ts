/**
 * The local devnet `npm run dev` runs as test-mode ethereum: anvil with its chain kept in
 * .data/anvil-state.json across restarts, the test USDT deployed once, and both recorded in
 * .data/devnet.json for `npm run cli -- devnet send`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureTestUsdt, fundedSigner, startAnvil } from './anvil';

export interface DevnetInfo {
  rpcUrl: string;
  usdtAddress: string;
}

export function devnetInfoFile(dataDir: string): string {
  return path.join(dataDir, 'devnet.json');
}

export async function startDevnet(options: { dataDir: string; port: number; blockTimeSeconds: number }): Promise<DevnetInfo & { stop(): Promise<void> }> {
  const anvil = await startAnvil({ port: options.port, blockTimeSeconds: options.blockTimeSeconds, stateFile: path.join(options.dataDir, 'anvil-state.json') });
  const saved = await readDevnetInfo(options.dataDir);
  const usdt = await ensureTestUsdt(fundedSigner(anvil.provider), saved?.usdtAddress);
  const info = { rpcUrl: anvil.rpcUrl, usdtAddress: await usdt.getAddress() };
  await writeFile(devnetInfoFile(options.dataDir), `${JSON.stringify(info, null, 2)}\n`);
  return { ...info, stop: () => anvil.stop() };
}

export async function readDevnetInfo(dataDir: string): Promise<DevnetInfo | undefined> {
  return readFile(devnetInfoFile(dataDir), 'utf8')
    .then((text) => JSON.parse(text) as DevnetInfo)
    .catch(() => undefined);
}
