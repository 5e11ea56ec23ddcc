/**
 * The local devnets `npm run dev` runs: anvil as test-mode ethereum (its chain kept in
 * .data/anvil-state.json, the test USDT deployed once) and the Tron devnet stand-in as test-mode
 * tron (its chain kept in .data/tron-devnet.json), both recorded in .data/devnet.json for
 * `npm run cli -- devnet send`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureTestUsdt, fundedSigner, startAnvil } from './anvil';
import { startTronDevnet } from './tron-devnet';

export interface DevnetInfo {
  rpcUrl: string;
  usdtAddress: string;
  tron: { rpcUrl: string; usdtAddress: string };
  /** Both devnets make a block this often (INFLOW_DEV_BLOCK_TIME); absent in files written before it was kept. */
  blockTimeSeconds?: number;
}

export function devnetInfoFile(dataDir: string): string {
  return path.join(dataDir, 'devnet.json');
}

export async function startDevnet(options: {
  dataDir: string;
  port: number;
  tronPort: number;
  blockTimeSeconds: number;
}): Promise<DevnetInfo & { stop(): Promise<void> }> {
  const anvil = await startAnvil({ port: options.port, blockTimeSeconds: options.blockTimeSeconds, stateFile: path.join(options.dataDir, 'anvil-state.json') });
  const tron = await startTronDevnet({
    port: options.tronPort,
    blockTimeSeconds: options.blockTimeSeconds,
    stateFile: path.join(options.dataDir, 'tron-devnet.json'),
  }).catch(async (error: unknown) => {
    await anvil.stop();
    throw error;
  });
  const saved = await readDevnetInfo(options.dataDir);
  const usdt = await ensureTestUsdt(fundedSigner(anvil.provider), saved?.usdtAddress);
  const info: DevnetInfo = {
    rpcUrl: anvil.rpcUrl,
    usdtAddress: await usdt.getAddress(),
    tron: { rpcUrl: tron.rpcUrl, usdtAddress: tron.usdtAddress },
    blockTimeSeconds: options.blockTimeSeconds,
  };
  await writeFile(devnetInfoFile(options.dataDir), `${JSON.stringify(info, null, 2)}\n`);
  return {
    ...info,
    stop: async () => {
      await Promise.all([anvil.stop(), tron.stop()]);
    },
  };
}

export async function readDevnetInfo(dataDir: string): Promise<DevnetInfo | undefined> {
  return readFile(devnetInfoFile(dataDir), 'utf8')
    .then((text) => JSON.parse(text) as DevnetInfo)
    .catch(() => undefined);
}
