/**
 * A local EVM chain: anvil from the `@foundry-rs/anvil` npm package, with the test USDT token
 * deployed from its shipped bytecode (dev/devnet/TestUSDT.sol, compiled once; see test-usdt.json
 * for the compiler and flags). Accounts come from anvil's well-known test mnemonic.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Contract, ContractFactory, JsonRpcProvider, NonceManager, Wallet, type Signer } from 'ethers';
import { ManagedProcess } from '../managed-process';
import { repoRoot } from '../tools/paths';
import { waitForPort } from '../tools/ports';
import testUsdt from './test-usdt.json';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
/** Account 0 of the mnemonic: anvil funds it with 10,000 ETH. */
export const FUNDED_PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export interface RunningAnvil {
  rpcUrl: string;
  provider: JsonRpcProvider;
  stop(): Promise<void>;
}

/**
 * Starts anvil on `port`; with `blockTimeSeconds` it mines on a timer, else on every transaction.
 * With `stateFile` the chain is loaded from it and saved back on exit, so a restart keeps it.
 */
export async function startAnvil(options: { port: number; blockTimeSeconds?: number; stateFile?: string }): Promise<RunningAnvil> {
  const args = ['--host', '127.0.0.1', '--port', String(options.port), '--chain-id', '31337', '--silent'];
  if (options.blockTimeSeconds) args.push('--block-time', String(options.blockTimeSeconds));
  // Saved every few seconds too, not only on a clean exit: a crash of the dev stack keeps the chain.
  if (options.stateFile) args.push('--state', options.stateFile, '--state-interval', '5');
  const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'anvil'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // Silent anvil writes to stderr only when something is wrong: kept, to say why it stopped.
  let lastStderr = '';
  child.stderr.on('data', (chunk: Buffer) => (lastStderr = (lastStderr + chunk.toString()).slice(-2_000)));
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // SIGINT is a terminal's Ctrl-C, which reaches the whole process group (anvil too) while the
      // stack stops: expected, not worth a line that reads like a failure.
      if (!stopping && signal !== 'SIGINT')
        console.error(`anvil on port ${options.port} stopped unexpectedly (${signal ?? `exit code ${code}`})${lastStderr ? `: ${lastStderr.trim()}` : ''}`);
      resolve();
    }),
  );
  await waitForPort(options.port, 30_000);
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  return {
    rpcUrl,
    provider,
    stop: async () => {
      stopping = true;
      provider.destroy();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * anvil as a ManagedProcess (the chaos suites'), `args` (worked out at each start) after the ones
 * every devnet has; ready once it answers JSON-RPC. Returned not yet started.
 */
export function supervisedAnvil(options: { port: number; logFile: string; args: () => string[] }): ManagedProcess {
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const blockNumber = {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}',
  };
  return new ManagedProcess({
    name: 'anvil',
    command: path.join(repoRoot, 'node_modules', '.bin', 'anvil'),
    args: () => ['--host', '127.0.0.1', '--port', String(options.port), '--chain-id', '31337', '--silent', ...options.args()],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: async () =>
      ((await (await fetch(rpcUrl, { ...blockNumber, signal: AbortSignal.timeout(2_000) })).json()) as { result?: string }).result !== undefined,
    readyTimeoutMs: 60_000,
  });
}

/**
 * The funded account as a signer that keeps its own nonce count, so transactions sent back to
 * back never reuse one.
 */
export function fundedSigner(provider: JsonRpcProvider): NonceManager {
  return new NonceManager(new Wallet(FUNDED_PRIVATE_KEY, provider));
}

/** The test USDT at `address` if it is deployed there, else a fresh deployment. */
export async function ensureTestUsdt(signer: NonceManager, address: string | undefined): Promise<Contract> {
  if (address && (await signer.provider!.getCode(address)) !== '0x') return new Contract(address, testUsdt.abi, signer);
  return deployTestUsdt(signer);
}

/** Deploys the test USDT with 1,000,000,000 tokens for the signer; returns the contract. */
export async function deployTestUsdt(signer: Signer): Promise<Contract> {
  const factory = new ContractFactory(testUsdt.abi, testUsdt.bytecode, signer);
  const contract = await factory.deploy(1_000_000_000n * 10n ** 6n);
  await contract.waitForDeployment();
  return contract as unknown as Contract;
}

/**
 * Resolves once the transaction has a receipt, asked of the node directly every 20 ms. ethers'
 * own waits (`wait()`, `waitForTransaction`) ride its block polling, which here has stopped
 * answering after a hundred-odd blocks and held a run until its deadline.
 */
export async function minedReceipt(provider: JsonRpcProvider, hash: string, timeoutMs: number): Promise<{ status: string; blockNumber: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = (await provider.send('eth_getTransactionReceipt', [hash])) as { status: string; blockNumber: string } | null;
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`${hash} was not mined within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
