/**
 * `.data/dev-stack.json`: where a running `npm run dev` has its database, API and Temporal, so
 * that `npm run cli -- …` reaches them with no setup. `npm run dev` writes it once everything is
 * up and deletes it when it stops; the CLI reads it only for what the environment does not set
 * (environment variables always win) and says on stderr what it took from where.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config';
import { describeDatabaseUrl } from '../startup';

export const DEV_STACK_FILE = 'dev-stack.json';

export const DevStack = z.object({
  /** The `npm run dev` process: a file whose process is gone describes a stack that is not running. */
  pid: z.number().int().positive(),
  database_url: z.string().regex(/^postgres(ql)?:\/\/\S+$/),
  /** The API's base URL, …/api/v1. */
  api_url: z.url({ protocol: /^https?$/ }),
  temporal: z.object({
    address: z.string().min(1),
    namespace: z.string().min(1),
    task_queue: z.string().min(1),
    /** The Web UI, when `npm run dev` runs the Temporal dev server. */
    ui_url: z.string().nullable(),
  }),
  /** The INFLOW_SECRET_KEY that seals this database's keys, when `npm run dev` made it (otherwise it came from the environment). */
  secret_key_file: z.string().nullable(),
  /** The development merchant's test key (dev-merchant.json). */
  merchant_file: z.string(),
  /** The chains `npm run dev` configured (INFLOW_RPC_URL_…, INFLOW_TOKEN_…), for `chain rescan`. */
  chain_env: z.record(z.string().regex(/^INFLOW_(RPC_URL|RPC_HEADERS|TOKEN)_[A-Z0-9_]+$/), z.string()),
  /** The devnets, when `npm run dev` runs them: their block time and, per network and mode watched on them, the confirmations a deposit needs (for `devnet send`). */
  devnets: z
    .object({
      block_time_seconds: z.number().positive(),
      chains: z.array(z.object({ network: z.string(), mode: z.enum(['test', 'live']), required_confirmations: z.number().int().positive() })),
    })
    .nullable()
    .optional(),
});
export type DevStack = z.infer<typeof DevStack>;

/** Where `npm run dev` keeps its state: INFLOW_DEV_DATA_DIR, else the checkout's .data/. */
export function devDataDir(env: NodeJS.ProcessEnv): string {
  return env.INFLOW_DEV_DATA_DIR || path.resolve(__dirname, '..', '..', '.data');
}

export async function writeDevStack(dataDir: string, stack: DevStack): Promise<string> {
  const file = path.join(dataDir, DEV_STACK_FILE);
  // It names the secret key's file and holds the database's password.
  await writeFile(file, `${JSON.stringify(DevStack.parse(stack), null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function removeDevStack(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, DEV_STACK_FILE), { force: true });
}

/** The running dev stack's file, or undefined when there is none; a file that is unreadable or stale is a ConfigError. */
export async function readDevStack(env: NodeJS.ProcessEnv): Promise<{ file: string; stack: DevStack } | undefined> {
  const file = path.join(devDataDir(env), DEV_STACK_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ConfigError(`inflow: cannot read ${file}: ${error.message}`);
  });
  if (text === undefined) return undefined;
  let parsed;
  try {
    parsed = DevStack.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new ConfigError(`inflow: ${file} is not a dev stack file written by \`npm run dev\`: delete it, or restart \`npm run dev\``);
  if (!isRunning(parsed.data.pid)) {
    throw new ConfigError(`inflow: ${file} describes an \`npm run dev\` that is no longer running (pid ${parsed.data.pid}): start \`npm run dev\` again`);
  }
  return { file, stack: parsed.data };
}

/** Whether a process with this pid runs (as any user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type Need = 'database' | 'temporal' | 'api';

const variableOf: Record<Need, string> = { database: 'DATABASE_URL', temporal: 'TEMPORAL_ADDRESS', api: 'INFLOW_API_URL' };
const exampleOf: Record<Need, string> = {
  database: 'postgres://inflow:secret@localhost:5432/inflow',
  temporal: 'localhost:7233',
  api: 'http://localhost:3000/api/v1',
};

export interface CliEnvironment {
  /** The environment with what the dev stack supplies filled in. */
  env: NodeJS.ProcessEnv;
  /** The dev stack, when anything was taken from it. */
  devStack: { file: string; stack: DevStack } | undefined;
  /** Where each need came from: "env" or the dev stack file. */
  sources: Partial<Record<Need, string>>;
  /** One line naming what the command talks to and where that came from. */
  describe(): string;
}

/**
 * The environment a CLI command runs with: each of `needs` from its variable when set
 * (DATABASE_URL, TEMPORAL_ADDRESS, INFLOW_API_URL), else from the running dev stack; neither is
 * a ConfigError naming both. What comes from the dev stack brings what belongs with it: the
 * database its INFLOW_SECRET_KEY and chains, Temporal its namespace and task queue, unless set.
 */
export async function cliEnvironment(env: NodeJS.ProcessEnv, needs: readonly Need[]): Promise<CliEnvironment> {
  const missing = needs.filter((need) => !env[variableOf[need]]);
  const devStack = missing.length > 0 ? await readDevStack(env) : undefined;
  if (missing.length > 0 && !devStack) {
    const variables = missing.map((need) => `${variableOf[need]} (e.g. ${exampleOf[need]})`).join(' and ');
    throw new ConfigError(
      `inflow: no ${missing.map((need) => variableOf[need]).join(' or ')} in the environment and no running \`npm run dev\` (${path.join(devDataDir(env), DEV_STACK_FILE)} not found): set ${variables}, or start \`npm run dev\``,
    );
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  const sources: Partial<Record<Need, string>> = {};
  for (const need of needs) sources[need] = missing.includes(need) ? devStack!.file : 'env';
  if (devStack) {
    const { stack } = devStack;
    if (missing.includes('database')) {
      merged.DATABASE_URL = stack.database_url;
      // The key that sealed this database's API keys, and no other.
      if (!env.INFLOW_SECRET_KEY && stack.secret_key_file) merged.INFLOW_SECRET_KEY = (await readFile(stack.secret_key_file, 'utf8').catch(() => '')).trim();
      if (!Object.keys(env).some((name) => name.startsWith('INFLOW_RPC_URL_'))) Object.assign(merged, stack.chain_env);
    }
    if (missing.includes('temporal')) {
      merged.TEMPORAL_ADDRESS = stack.temporal.address;
      merged.TEMPORAL_NAMESPACE = env.TEMPORAL_NAMESPACE || stack.temporal.namespace;
      merged.TEMPORAL_TASK_QUEUE = env.TEMPORAL_TASK_QUEUE || stack.temporal.task_queue;
    }
    if (missing.includes('api')) merged.INFLOW_API_URL = stack.api_url;
  }
  const from = (need: Need) => (sources[need] === 'env' ? 'env' : displayPath(sources[need]!));
  return {
    env: merged,
    devStack: missing.length > 0 ? devStack : undefined,
    sources,
    describe: () =>
      `inflow: ${needs
        .map((need) => {
          if (need === 'database') return `database ${describeDatabaseUrl(merged.DATABASE_URL!)} (${from(need)})`;
          if (need === 'temporal') return `Temporal ${merged.TEMPORAL_ADDRESS} namespace ${merged.TEMPORAL_NAMESPACE || 'default'} (${from(need)})`;
          return `API ${merged.INFLOW_API_URL} (${from(need)})`;
        })
        .join(', ')}`,
  };
}

/** A path as short as it can be said: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
