/**
 * inflow's own processes as production runs them: the entry file of `npm run api` or
 * `npm run worker` run by node itself (as docker-compose.yml does, so a SIGTERM reaches the
 * process and it drains), and the signer, each a ManagedProcess: its own process group, its output in a log
 * file, ready once it serves. dev/stack.ts starts them (`npm run prod:local`, the topology test, the chaos runs, the benchmarks).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignerClient } from '../src/treasury/signer-client';
import { ManagedProcess, type ProcessSpec } from './managed-process';
import { repoRoot } from './tools/paths';

/** tsx compiles on start and the worker bundles its workflows: slow on a busy machine. */
const READY_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 2_000;

type Supervision = Pick<ProcessSpec, 'restart' | 'onExit'>;

/** The API on `port`, ready once GET /healthz answers (any status: the process serves). */
export function apiProcess(options: { name: string; port: number; env: NodeJS.ProcessEnv; logFile: string } & Supervision): ManagedProcess {
  return nodeProcess({
    ...options,
    script: 'api',
    env: { ...withoutSignerSecrets(options.env), PORT: String(options.port) },
    ready: async () => {
      await fetch(`http://127.0.0.1:${options.port}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return true;
    },
  });
}

/**
 * A worker, ready once it logs that it polls its task queue: `npm run worker`'s entry file, or
 * `entry` (a file that says "worker started" too: the benchmarks' worker).
 */
export function workerProcess(options: { name: string; env: NodeJS.ProcessEnv; logFile: string; entry?: string } & Supervision): ManagedProcess {
  return nodeProcess({ ...options, script: 'worker', ready: async (output) => /worker started/.test(output) });
}

/**
 * The signer (`npm run signer`) with exactly `env` (its own settings: no database, no Temporal),
 * ready once it answers GET /v1/health on its socket with its secret.
 */
export function signerProcess(options: { name: string; env: Record<string, string>; logFile: string } & Supervision): ManagedProcess {
  const client = new SignerClient({ socketPath: options.env.INFLOW_SIGNER_SOCKET!, secret: options.env.INFLOW_SIGNER_SECRET!, timeoutMs: PROBE_TIMEOUT_MS });
  return nodeProcess({
    ...options,
    script: 'signer',
    ready: async () => (await client.health()).ok,
  });
}

/**
 * The environment without what only the signer and the worker may hold: the API never talks to the
 * signer (docs/treasury.md), so it gets neither its secret nor a mnemonic file, whatever the caller's environment had.
 */
export function withoutSignerSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^INFLOW_SIGNER_/.test(name)));
}

function nodeProcess(
  options: { name: string; script: string; entry?: string; env: NodeJS.ProcessEnv; logFile: string; ready: ProcessSpec['ready'] } & Supervision,
): ManagedProcess {
  return new ManagedProcess({
    name: options.name,
    command: process.execPath,
    args: ['--import', 'tsx', options.entry ?? entryFileOf(options.script)],
    cwd: repoRoot,
    env: options.env,
    logFile: options.logFile,
    ready: options.ready,
    readyTimeoutMs: READY_TIMEOUT_MS,
    restart: options.restart,
    onExit: options.onExit,
  });
}

/** `src/worker.ts` for `worker`: package.json's `tsx FILE` script stays the one place that names it. */
function entryFileOf(script: string): string {
  const scripts = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const match = /^tsx (\S+)$/.exec(scripts[script] ?? '');
  if (!match) throw new Error(`package.json's "${script}" script is not \`tsx FILE\``);
  return match[1]!;
}
