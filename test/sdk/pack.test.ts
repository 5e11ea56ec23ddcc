import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inflow } from '../../sdk/src';
import { useApiStack } from '../helpers/api-stack';

const root = path.resolve(__dirname, '../..');

/** The SDK quick start of the root README: the one fenced block between its markers. */
function readmeQuickstart(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const marked = /<!-- sdk-quickstart:start -->\n([\s\S]*?)<!-- sdk-quickstart:end -->/.exec(readme);
  if (!marked) throw new Error('README.md has no <!-- sdk-quickstart:start --> … <!-- sdk-quickstart:end --> block');
  const blocks = [...marked[1]!.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1) throw new Error(`README.md's sdk-quickstart markers hold ${blocks.length} fenced blocks, not one`);
  return blocks[0]![1]!;
}

/** The shell commands the snippet's opening comment gives (`//   command   # note`), in order. */
function commandsOf(snippet: string): string[] {
  return [...snippet.matchAll(/^\/\/ {3}(\S.*)$/gm)].map((match) => match[1]!.replace(/\s+#.*$/, '').trim());
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A shell command run to completion in `cwd` with exactly `env` (besides PATH and HOME), as from a terminal. */
function shell(command: string, cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, timeout: 180_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const succeeded = (run: Run, what: string): string => {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
};

/**
 * npm pack builds into sdk/dist and removes it afterwards (sdk/scripts/build.mjs), so two packs
 * of this checkout at once (another jest run) would pull it from under each other: one at a time.
 */
async function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `inflow-sdk-pack-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lock).then(
        (stats) => Date.now() - stats.mtimeMs,
        () => 0,
      );
      // A pack takes seconds: a lock this old was left by a run that was killed.
      if (held > 300_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is still held: another run is packing the SDK`);
      else await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** The snippet's line for a deposit: its status is the one it had then (the simulation goes on). */
const printed = (deposit: { id: string; amount: string; currency: string }) =>
  expect.stringMatching(new RegExp(`^${deposit.id} ${deposit.amount.replace('.', '\\.')} ${deposit.currency} (detected|confirming|completed)$`));

// npm without the network: the SDK has no dependencies to fetch, so installing its tarball needs none.
const npmOffline = { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

describe("the README's SDK quick start, run with plain node on the packed SDK in a fresh npm project", () => {
  const stack = useApiStack('sdk-pack');
  const snippet = readmeQuickstart();
  const [setup, run] = commandsOf(snippet);
  let folder: string;
  let project: string;
  let leftBehind: boolean;
  let setupWarnings: string[];

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'inflow-sdk-quickstart-'));
    project = path.join(folder, 'my-shop');
    await mkdir(project);
    // The README's own commands, with where this checkout is: npm init -y, npm pack …/sdk, npm install the tarball.
    expect(setup).toMatch(/^npm init -y && npm pack \/path\/to\/inflow\/sdk && npm install \.\/\S+\.tgz$/);
    await oneAtATime(async () => {
      const output = await shell(setup!.replaceAll('/path/to/inflow', root), project, { ...npmOffline, npm_config_cache: path.join(folder, 'npm-cache') });
      succeeded(output, setup!);
      setupWarnings = output.stderr.split('\n').filter((line) => /install-scripts|allowScripts/.test(line));
      leftBehind = await stat(path.join(root, 'sdk', 'dist')).then(
        () => true,
        () => false,
      );
    });
  }, 240_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('installs the built package: JavaScript for import and require with their declarations, no dependencies, no install scripts, no build left in the checkout', async () => {
    const projectPackage = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { type?: string; dependencies: Record<string, string> };
    expect(projectPackage.type ?? 'commonjs').toBe('commonjs');
    expect(Object.keys(projectPackage.dependencies)).toEqual(['@inflow/sdk']);
    // Nothing but the SDK itself was installed.
    const lock = JSON.parse(await readFile(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).sort()).toEqual(['', 'node_modules/@inflow/sdk']);

    const installed = path.join(project, 'node_modules', '@inflow', 'sdk');
    for (const file of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts']) {
      await expect(stat(path.join(installed, file))).resolves.toBeDefined();
    }
    // The build is made when packing (prepack), not when installing: npm 11 warns of an install script
    // (prepare, say) that the project's allowScripts does not list, and --strict-allow-scripts refuses it.
    expect(setupWarnings).toEqual([]);
    // The build is packed and not left behind, where the repository's lint and typecheck would read it.
    expect(leftBehind).toBe(false);

    const resolved = succeeded(
      await shell(
        `node -e "console.log(require.resolve('@inflow/sdk'))" && node --input-type=module -e "console.log(import.meta.resolve('@inflow/sdk'))"`,
        project,
        {},
      ),
      'resolving @inflow/sdk',
    );
    expect(resolved.trim().split('\n')).toEqual([path.join(installed, 'dist/cjs/index.js'), `file://${path.join(installed, 'dist/esm/index.js')}`]);
  });

  it('runs as CommonJS (quickstart.js in the npm init project): a customer, its addresses, a simulated deposit', async () => {
    expect(run).toMatch(/^INFLOW_API_KEY=sk_test_… node quickstart\.js$/);
    await writeFile(path.join(project, 'quickstart.js'), snippet);
    const key = stack.acme.test_key;
    // INFLOW_API_URL is where the README says the snippet finds the API when it is not on localhost:3000.
    const output = succeeded(await shell(run!.replace('sk_test_…', key), project, { INFLOW_API_URL: stack.api.baseUrl }), run!);

    const inflow = new Inflow(key, { baseUrl: stack.api.baseUrl });
    const customers = await inflow.customers.list({ external_id: 'user_42' });
    expect(customers.data).toHaveLength(1);
    const customer = customers.data[0]!;
    const deposits = await inflow.deposits.list({ customer_id: customer.id });
    expect(deposits.data).toHaveLength(1);
    const deposit = deposits.data[0]!;
    expect(deposit).toMatchObject({ currency: 'USDT', network: 'ethereum', simulated: true });
    expect(Number(deposit.amount)).toBe(25);
    expect(output.trim().split('\n')).toEqual([...customer.addresses.map(({ network, address }) => `${network} ${address}`), printed(deposit)]);
  });

  it('runs as an ES module (quickstart.mjs): the same customer again (its idempotency key), a second deposit', async () => {
    const asModule = run!.replace('quickstart.js', 'quickstart.mjs');
    await writeFile(path.join(project, 'quickstart.mjs'), snippet);
    const key = stack.acme.test_key;
    const output = succeeded(await shell(asModule.replace('sk_test_…', key), project, { INFLOW_API_URL: stack.api.baseUrl }), asModule);

    const inflow = new Inflow(key, { baseUrl: stack.api.baseUrl });
    const [customer, ...others] = (await inflow.customers.list({ external_id: 'user_42' })).data;
    expect(others).toEqual([]);
    const deposits = await inflow.deposits.list({ customer_id: customer!.id });
    expect(deposits.data).toHaveLength(2);
    expect(output.trim().split('\n')).toEqual([...customer!.addresses.map(({ network, address }) => `${network} ${address}`), ...deposits.data.map(printed)]);
  });

  it('is the same package through require(): its errors are the classes it exports', async () => {
    const check = `
      const { Inflow, AuthenticationError, InflowError } = require('@inflow/sdk');
      new Inflow('sk_test_not_a_key', { baseUrl: process.env.INFLOW_API_URL }).balance.retrieve().then(
        () => { console.log('answered'); },
        (error) => { console.log(error instanceof AuthenticationError, error instanceof InflowError, error.type, error.statusCode); },
      );`;
    await writeFile(path.join(project, 'check.cjs'), check);
    const output = succeeded(await shell('node check.cjs', project, { INFLOW_API_URL: stack.api.baseUrl }), 'node check.cjs');
    expect(output.trim()).toBe('true true authentication_error 401');
  });

  it('types both ways: TypeScript finds the ES module declarations for import and the CommonJS ones for require', async () => {
    const consumer = `
      import { Inflow, InvalidRequestError, type Schemas } from '@inflow/sdk';
      const inflow = new Inflow('sk_test_x');
      export const customer: Promise<Schemas['Customer']> = inflow.customers.retrieve('cus_x');
      // @ts-expect-error: parameters are typed from the OpenAPI document
      export const wrong = inflow.customers.create({ email: 42 });
      export const param = (error: unknown): string | undefined => (error instanceof InvalidRequestError ? error.param : undefined);
    `;
    await writeFile(path.join(project, 'consumer.mts'), consumer);
    await writeFile(path.join(project, 'consumer.cts'), consumer);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const options = `--noEmit --strict --target es2022 --lib es2023 --module node16 --moduleResolution node16 --types node --typeRoots ${path.join(root, 'node_modules', '@types')}`;
    const output = succeeded(await shell(`node ${tsc} ${options} --listFiles consumer.mts consumer.cts`, project, {}), 'tsc');
    const installed = path.join(project, 'node_modules', '@inflow', 'sdk');
    expect(output.split('\n')).toEqual(expect.arrayContaining([path.join(installed, 'dist/esm/index.d.ts'), path.join(installed, 'dist/cjs/index.d.ts')]));
  }, 120_000);
});
