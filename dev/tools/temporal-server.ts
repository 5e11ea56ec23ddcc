/**
 * Builds the production Temporal server once, the pieces the official images ship:
 *
 *   temporal-server      the server (image temporalio/server), configured from the environment
 *   temporal-sql-tool    the schema tool (image temporalio/admin-tools), and the SQL schemas it applies
 *   temporal-ui-server   the Web UI's server (image temporalio/ui), optional
 *
 * Cached in .tools, else built once with `go install` of pinned versions (neither module has
 * replace directives, so the Go module proxy builds them). Unlike the CLI, a `temporal-server` on
 * PATH is not used: the schemas applied must be its release's, and the release must be the one
 * docker-compose.yml's images carry. `go install` names a binary after its package directory
 * (`server`, `sql`), so each is installed into a staging directory and renamed to the image's name. The schemas and the UI's config template come from the same module
 * versions in Go's module cache and are copied beside the binaries, so `go clean -modcache` cannot
 * take them away. A stamp file records the version each cache was built from: a new pin rebuilds.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildOnce } from './build-lock';
import { toolsDir } from './paths';
import { findOnPath, runWithProgress, stderrLog, type Log } from './progress';

/** The server release docker-compose.yml's temporalio/server and temporalio/admin-tools images carry (test/unit/docker-compose.test.ts). */
export const TEMPORAL_SERVER_VERSION = 'v1.30.4';
const SERVER_MODULE = 'go.temporal.io/server';
/** The UI server the Temporal CLI (dev/tools/temporal-cli.ts) embeds; it builds with the Go here, unlike newer ones. */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.42.1';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

const binDir = path.join(toolsDir, 'bin');
const serverCache = path.join(toolsDir, 'temporal-server');
const uiCache = path.join(toolsDir, 'temporal-ui-server');

export interface TemporalServerTools {
  server: string;
  sqlTool: string;
  /** Holds postgresql/v12/{temporal,visibility}/versioned, as /etc/temporal/schema in temporalio/admin-tools. */
  schemaDir: string;
}

export interface TemporalUiServer {
  binary: string;
  /** Run it as `temporal-ui-server --root <root> --env docker start`: config/docker.yaml is the image's template. */
  root: string;
}

export async function ensureTemporalServer(log: Log = stderrLog): Promise<TemporalServerTools> {
  const tools = { server: path.join(binDir, 'temporal-server'), sqlTool: path.join(binDir, 'temporal-sql-tool'), schemaDir: path.join(serverCache, 'schema') };
  const built = async () =>
    (await isStamped(serverCache, TEMPORAL_SERVER_VERSION)) && existsSync(tools.server) && existsSync(tools.sqlTool) ? tools : undefined;
  return buildOnce('temporal-server', log, built, async () => {
    const go = requireGo('the Temporal server');
    log(`Temporal server: building ${TEMPORAL_SERVER_VERSION} and its SQL tool with Go once (about four minutes on two cores; cached in .tools)`);
    await goInstall(go, log, 'temporal-server', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`, { 'cmd/server': tools.server, 'cmd/tools/sql': tools.sqlTool });
    const moduleDir = await moduleDirectory(go, SERVER_MODULE, TEMPORAL_SERVER_VERSION);
    await replaceDir(path.join(moduleDir, 'schema', 'postgresql', 'v12'), path.join(tools.schemaDir, 'postgresql', 'v12'));
    await stamp(serverCache, TEMPORAL_SERVER_VERSION);
    return tools;
  });
}

export async function ensureTemporalUiServer(log: Log = stderrLog): Promise<TemporalUiServer> {
  const binary = path.join(binDir, 'temporal-ui-server');
  const built = async () => ((await isStamped(uiCache, TEMPORAL_UI_SERVER_VERSION)) && existsSync(binary) ? { binary, root: uiCache } : undefined);
  return buildOnce('temporal-ui-server', log, built, () => buildUiServer(log, binary));
}

async function buildUiServer(log: Log, binary: string): Promise<TemporalUiServer> {
  const go = requireGo('the Temporal Web UI server');
  log(`Temporal UI server: building ${TEMPORAL_UI_SERVER_VERSION} with Go once (a minute or two; cached in .tools)`);
  await goInstall(go, log, 'temporal-ui-server', `${UI_MODULE}@${TEMPORAL_UI_SERVER_VERSION}`, { 'cmd/server': binary });
  const moduleDir = await moduleDirectory(go, UI_MODULE, TEMPORAL_UI_SERVER_VERSION);
  // The image's template as it is; base.yaml (read first, and not in the image) keeps it on loopback, as it has no authentication.
  await mkdir(path.join(uiCache, 'config'), { recursive: true });
  await cp(path.join(moduleDir, 'config', 'docker.yaml'), path.join(uiCache, 'config', 'docker.yaml'));
  await chmod(path.join(uiCache, 'config', 'docker.yaml'), 0o644);
  await writeFile(
    path.join(uiCache, 'config', 'base.yaml'),
    '# Written by dev/tools/temporal-server.ts: docker.yaml has no host, so the UI would listen on every interface.\nhost: 127.0.0.1\n',
  );
  await stamp(uiCache, TEMPORAL_UI_SERVER_VERSION);
  return { binary, root: uiCache };
}

function requireGo(what: string): string {
  const go = findOnPath('go');
  if (!go)
    throw new Error(`${what} is built from source with Go, which is not installed: install Go 1.25 or newer (https://go.dev/dl/) and run \`npm run tools\``);
  return go;
}

/** `go install module/pkg@version` for each package, into a staging GOBIN, each binary renamed to its target. */
async function goInstall(go: string, log: Log, name: string, moduleAtVersion: string, targets: Record<string, string>): Promise<void> {
  const [module, version] = moduleAtVersion.split('@') as [string, string];
  const staging = path.join(toolsDir, 'build', `${name}-${version}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await mkdir(binDir, { recursive: true });
  const packages = Object.keys(targets).map((pkg) => `${module}/${pkg}@${version}`);
  await runWithProgress(`go install ${name} ${version}`, go, ['install', '-v', ...packages], {
    // Static binaries, as the official images' builds make them.
    env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0' },
    log,
  });
  for (const [pkg, target] of Object.entries(targets)) await rename(path.join(staging, path.basename(pkg)), target);
  await rm(staging, { recursive: true, force: true });
  await rmdir(path.dirname(staging)).catch(() => undefined); // only when no other build is staged there
}

/** Where Go's module cache holds `module@version` (downloaded by the install just before). */
async function moduleDirectory(go: string, module: string, version: string): Promise<string> {
  const { stdout } = await promisify(execFile)(go, ['mod', 'download', '-json', `${module}@${version}`], { maxBuffer: 1 << 20 });
  const { Dir } = JSON.parse(stdout) as { Dir?: string };
  if (!Dir) throw new Error(`go mod download did not say where ${module}@${version} is`);
  return Dir;
}

/** Copies a directory whole, writable (the module cache's files and folders are read-only, and so would the copies be). */
async function replaceDir(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(path.dirname(to), { recursive: true });
  await cp(from, to, { recursive: true });
  await promisify(execFile)('chmod', ['-R', 'u+w', to]);
}

async function isStamped(cacheDir: string, version: string): Promise<boolean> {
  const file = path.join(cacheDir, 'version');
  if (!existsSync(file)) return false;
  return (await readFile(file, 'utf8')).trim() === version;
}

async function stamp(cacheDir: string, version: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  await writeFile(path.join(cacheDir, 'version'), `${version}\n`);
}
