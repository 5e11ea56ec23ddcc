/**
 * Static checks of docker-compose.yml, the Dockerfile and .dockerignore. No Docker engine is
 * needed; where the `docker compose` plugin exists, its own validation runs as well.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { parse } from 'yaml';
import {
  dynamicConfigFile,
  namespaceEnvFile,
  namespaceScript,
  schemaScript,
  schemaToolEnv,
  serverEnvFile,
  temporalServerEnv,
  type DatabaseLocation,
} from '../../dev/temporal-server';
import { readEnvFile } from '../../dev/tools/env-file';
import { TEMPORAL_SERVER_VERSION } from '../../dev/tools/temporal-server';
import { retiredSearchAttributes, searchAttributes } from '../../src/workflows/definitions';

const root = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const compose: unknown = parse(read('docker-compose.yml'), { merge: true });
const services: Obj = isObj(compose) && isObj(compose.services) ? compose.services : {};
const packageScripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

const APP_SERVICES = ['migrate', 'api', 'worker'] as const;
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];

function service(name: string): Obj {
  const s = services[name];
  if (!isObj(s)) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** `env_file` entries then `environment` (which wins, as in compose) as a map, whichever of the two forms `environment` is written in. */
function env(s: Obj): Record<string, string> {
  const e = s.environment;
  const files = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
  const out: Record<string, string> = Object.assign({}, ...files.map((file) => readEnvFile(join(root, String(isObj(file) ? file.path : file)))));
  if (Array.isArray(e)) {
    for (const item of e) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq > 0) out[text.slice(0, eq)] = text.slice(eq + 1);
    }
  } else if (isObj(e)) {
    for (const [k, v] of Object.entries(e)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

/** `depends_on` as target → condition (the short list form means service_started). */
function dependsOn(s: Obj): Record<string, unknown> {
  const d = s.depends_on;
  if (Array.isArray(d)) return Object.fromEntries(d.map((t) => [String(t), 'service_started']));
  if (!isObj(d)) return {};
  return Object.fromEntries(Object.entries(d).map(([t, v]) => [t, isObj(v) ? v.condition : 'service_started']));
}

/** `command` / `entrypoint` as an argv array (a string form is split on blanks). */
function argv(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.trim().split(/\s+/);
  return [];
}

interface Mount {
  type: 'bind' | 'volume' | 'other';
  source: string;
  target: string;
}

function mounts(s: Obj): Mount[] {
  const vols = Array.isArray(s.volumes) ? s.volumes : [];
  return vols.map((v): Mount => {
    if (isObj(v)) {
      const type = v.type === 'bind' || v.type === 'volume' ? v.type : 'other';
      return { type, source: String(v.source ?? ''), target: String(v.target ?? '') };
    }
    const parts = String(v).split(':');
    if (parts.length === 1) return { type: 'volume', source: '', target: parts[0] ?? '' }; // anonymous
    const source = parts[0] ?? '';
    const bind = /^[./~]/.test(source);
    return { type: bind ? 'bind' : 'volume', source, target: parts[1] ?? '' };
  });
}

/** Host path (relative to the repo) of a path inside a container, through its bind mounts. */
function hostPath(s: Obj, containerPath: string): string | undefined {
  for (const m of mounts(s)) {
    if (m.type !== 'bind') continue;
    const target = m.target.replace(/\/$/, '');
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return posix.join(m.source, containerPath.slice(target.length));
    }
  }
  return undefined;
}

/** True when an image reference names a tag other than `latest` (or a digest). */
function imageIsPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) && tag !== 'latest';
}

/** [host port, container port] pairs of a service's `ports`. */
function publishedPorts(s: Obj): Array<[string, string]> {
  const ports = Array.isArray(s.ports) ? s.ports : [];
  return ports.map((p): [string, string] => {
    if (isObj(p)) return [String(p.published ?? ''), String(p.target ?? '')];
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = parts[parts.length - 1] ?? '';
    const host = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
    return [host, container];
  });
}

/**
 * The npm script whose entry file argv runs with `node --import tsx FILE`, or undefined. Containers
 * run node directly rather than `npm run`: npm does not pass SIGTERM on to the script, so a
 * graceful shutdown would never start.
 */
function npmScriptRunBy(args: string[]): string | undefined {
  if (args.length !== 4 || args[0] !== 'node' || args[1] !== '--import' || args[2] !== 'tsx') return undefined;
  return Object.keys(packageScripts).find((name) => packageScripts[name] === `tsx ${args[3]}`);
}

describe('the helpers these checks rely on', () => {
  it('tell pinned images from unpinned ones', () => {
    expect(imageIsPinned('postgres:16')).toBe(true);
    expect(imageIsPinned('temporalio/server:1.31.0')).toBe(true);
    expect(imageIsPinned('localhost:5000/x:1.2')).toBe(true);
    expect(imageIsPinned('postgres')).toBe(false);
    expect(imageIsPinned('temporalio/ui:latest')).toBe(false);
    expect(imageIsPinned('localhost:5000/x')).toBe(false);
  });

  it('read both forms of environment, depends_on, ports and volumes', () => {
    expect(env({ environment: ['A=1', 'B=x=y'] })).toEqual({ A: '1', B: 'x=y' });
    expect(dependsOn({ depends_on: ['db'] })).toEqual({ db: 'service_started' });
    expect(publishedPorts({ ports: ['127.0.0.1:8080:80', { target: 3000, published: '3000' }] })).toEqual([
      ['8080', '80'],
      ['3000', '3000'],
    ]);
    expect(mounts({ volumes: ['data:/d', './x:/y:ro', '/anon'] }).map((m) => m.type)).toEqual(['volume', 'bind', 'volume']);
    expect(hostPath({ volumes: ['./deploy/t:/scripts:ro'] }, '/scripts/a.sh')).toBe('deploy/t/a.sh');
    expect(hostPath({ volumes: ['./deploy/t:/scripts:ro'] }, '/etc/a.sh')).toBeUndefined();
  });
});

describe('docker-compose.yml', () => {
  it('is a YAML mapping with services', () => {
    expect(isObj(compose)).toBe(true);
    expect(Object.keys(services).length).toBeGreaterThan(0);
  });

  it('has the services the deployment needs', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', ...APP_SERVICES]) {
      expect(isObj(services[name])).toBe(true);
    }
  });

  it('gives every service an image or a build', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, isObj(s) && (s.image !== undefined || s.build !== undefined)]).toEqual([name, true]);
    }
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!isObj(s) || s.image === undefined) continue;
      expect([name, String(s.image), imageIsPinned(String(s.image))]).toEqual([name, String(s.image), true]);
    }
  });

  it('depends only on services that exist, with valid conditions', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!isObj(s)) continue;
      for (const [target, condition] of Object.entries(dependsOn(s))) {
        expect([name, target, target in services]).toEqual([name, target, true]);
        expect(CONDITIONS).toContain(condition);
      }
    }
  });

  it('declares every named volume it uses', () => {
    const declared = isObj(compose) && isObj(compose.volumes) ? Object.keys(compose.volumes) : [];
    const used = Object.values(services)
      .filter(isObj)
      .flatMap((s) => mounts(s))
      .filter((m) => m.type === 'volume' && m.source !== '')
      .map((m) => m.source);
    expect(used.length).toBeGreaterThan(0); // Postgres keeps its data in one
    for (const volume of used) expect(declared).toContain(volume);
  });

  it('keeps Postgres data in a named volume and checks health with pg_isready', () => {
    const postgres = service('postgres');
    expect(String(postgres.image)).toMatch(/^postgres:\d+/);
    expect(mounts(postgres)).toContainEqual({
      type: 'volume',
      source: expect.any(String),
      target: '/var/lib/postgresql/data',
    });
    expect(JSON.stringify(isObj(postgres.healthcheck) ? postgres.healthcheck.test : '')).toContain('pg_isready');
    expect(env(postgres).POSTGRES_DB).toBe('inflow');
  });

  it('builds migrate, api and worker from the Dockerfile with the contract environment', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    for (const name of APP_SERVICES) {
      const s = service(name);
      const build = s.build;
      const context = typeof build === 'string' ? build : isObj(build) ? build.context : undefined;
      const dockerfile = isObj(build) && build.dockerfile !== undefined ? build.dockerfile : 'Dockerfile';
      expect([name, posix.normalize(String(context)), dockerfile]).toEqual([name, '.', 'Dockerfile']);

      const e = env(s);
      expect(e.DATABASE_URL).toMatch(/^postgres(ql)?:\/\/[^@]+@postgres:5432\/inflow$/);
      expect(e.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(e.TEMPORAL_NAMESPACE).toBe('default');
      expect(e.NODE_ENV).toBe('production');
    }
    expect(env(service('api')).PORT).toBe('3000');
  });

  it('makes the operator supply every xpub the API refuses to start without', () => {
    const api = env(service('api'));
    for (const name of ['INFLOW_XPUB_EVM_LIVE', 'INFLOW_XPUB_TRON_LIVE', 'INFLOW_XPUB_EVM_TEST', 'INFLOW_XPUB_TRON_TEST']) {
      // ${NAME:?message}: compose itself stops with the message when the variable is unset.
      expect([name, api[name]]).toEqual([name, expect.stringMatching(new RegExp(`^\\$\\{${name}:\\?.+\\}$`))]);
    }
  });

  it('makes the operator supply the INFLOW_SECRET_KEY the API and the worker refuse to start without', () => {
    expect(env(service('worker')).INFLOW_SECRET_KEY).toMatch(/^\$\{INFLOW_SECRET_KEY:\?.+\}$/);
    expect(env(service('api')).INFLOW_SECRET_KEY).toBe(env(service('worker')).INFLOW_SECRET_KEY);
  });

  it('keeps the keys in the signer: its own profile, no network, a socket volume the worker shares and the API never mounts', () => {
    const signer = service('signer');
    expect(signer.profiles).toEqual(['treasury']);
    expect(signer.network_mode).toBe('none');
    expect(npmScriptRunBy(argv(signer.command))).toBe('signer');
    expect(Object.keys(packageScripts)).toContain('signer');
    const socketVolume = (s: Obj) => mounts(s).find((m) => m.type === 'volume' && m.target === '/run/inflow-signer')?.source;
    expect(socketVolume(signer)).toBe('signer-socket');
    expect(socketVolume(service('worker'))).toBe('signer-socket');
    expect(socketVolume(service('api'))).toBeUndefined();
    // The mnemonic: read-only, from outside the image, and nothing of the signer in the API's environment.
    expect(mounts(signer)).toContainEqual({ type: 'bind', source: './secrets/live-mnemonic', target: '/run/secrets/live-mnemonic' });
    expect(JSON.stringify(signer.volumes)).toContain('/run/secrets/live-mnemonic:ro');
    expect(env(signer).INFLOW_SIGNER_MNEMONIC_FILE_LIVE).toBe('/run/secrets/live-mnemonic');
    expect(Object.keys(env(service('api'))).filter((name) => name.startsWith('INFLOW_SIGNER_'))).toEqual([]);
    // The worker gets a socket only with a secret: both or neither, as its configuration demands.
    expect(env(service('worker'))).toMatchObject({
      INFLOW_SIGNER_SECRET: '${INFLOW_SIGNER_SECRET:-}',
      INFLOW_SIGNER_SOCKET: `\${INFLOW_SIGNER_SECRET:+${env(signer).INFLOW_SIGNER_SOCKET}}`,
    });
    expect(env(signer).INFLOW_SIGNER_SECRET).toBe('${INFLOW_SIGNER_SECRET:-}');
    expect(read('.gitignore')).toMatch(/^secrets\/$/m);
    expect(read('.dockerignore')).toMatch(/^secrets$/m);
    expect(read('Dockerfile')).toMatch(/chown node:node \/run\/inflow-signer \/var\/lib\/inflow-signer/);
  });

  it('runs each app process with node on the entry file of its npm script', () => {
    const expected: Record<string, string> = { migrate: 'migrate', api: 'api', worker: 'worker' };
    for (const name of APP_SERVICES) {
      const script = npmScriptRunBy(argv(service(name).command));
      expect([name, script]).toEqual([name, expected[name]]);
      expect(Object.keys(packageScripts)).toContain(script);
    }
  });

  it('publishes the API on port 3000 and checks /healthz with node', () => {
    const api = service('api');
    expect(publishedPorts(api)).toContainEqual(['3000', '3000']);
    const test = isObj(api.healthcheck) ? argv(api.healthcheck.test) : [];
    expect(test).toContain('node');
    expect(test.join(' ')).toMatch(/http:\/\/(localhost|127\.0\.0\.1):3000\/healthz/);
  });

  it('runs Temporal on the Postgres with the postgres12 driver and a frontend healthcheck', () => {
    const temporal = service('temporal');
    const e = env(temporal);
    expect(e.DB).toBe('postgres12');
    expect(e.POSTGRES_SEEDS).toBe('postgres');
    expect(JSON.stringify(isObj(temporal.healthcheck) ? temporal.healthcheck.test : '')).toContain('7233');
    // The dynamic config file it is pointed at is mounted from the repo and is valid YAML.
    const dynamicConfig = e.DYNAMIC_CONFIG_FILE_PATH ?? '';
    const inContainer = posix.resolve('/etc/temporal', dynamicConfig);
    const onHost = hostPath(temporal, inContainer);
    expect(onHost).toBeDefined();
    expect(isObj(parse(read(String(onHost))))).toBe(true);
  });

  it('serves the Temporal UI on host port 8080, pointed at the server', () => {
    const ui = service('temporal-ui');
    expect(publishedPorts(ui)).toContainEqual(['8080', '8080']);
    expect(env(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env(ui).TEMPORAL_CORS_ORIGINS).toBeTruthy();
  });

  it('mounts every script a service runs from the repo, in valid sh syntax', () => {
    let scripts = 0;
    for (const [name, s] of Object.entries(services)) {
      if (!isObj(s)) continue;
      for (const arg of [...argv(s.entrypoint), ...argv(s.command)]) {
        const onHost = arg.startsWith('/') ? hostPath(s, arg) : undefined;
        if (onHost === undefined) continue;
        scripts += 1;
        expect([name, onHost, existsSync(join(root, onHost))]).toEqual([name, onHost, true]);
        if (onHost.endsWith('.sh')) {
          const check = spawnSync('sh', ['-n', join(root, onHost)], { encoding: 'utf8' });
          expect([onHost, check.status, check.stderr]).toEqual([onHost, 0, '']);
        }
      }
    }
    expect(scripts).toBeGreaterThanOrEqual(2); // Temporal's schema and namespace set-up
  });

  describe('search attributes', () => {
    const setup = Object.entries(services).filter(([, s]) => isObj(s) && env(s).SEARCH_ATTRIBUTES !== undefined);

    it('are registered by exactly one set-up service, which runs a script that uses them', () => {
      expect(setup).toHaveLength(1);
      const [, s] = setup[0] as [string, Obj];
      const script = argv(s.command)
        .map((a) => hostPath(s, a))
        .find((p) => p !== undefined);
      expect(script).toBeDefined();
      const text = read(String(script));
      expect(text).toContain('temporal operator search-attribute create');
      expect(text).toContain('SEARCH_ATTRIBUTES');
      expect(text).toContain('temporal operator namespace create');
      // One registered with another type by an older inflow is registered again, not left to fail every upsert;
      // a retired one is removed to make room.
      expect(text).toContain('temporal operator search-attribute remove');
      expect(text).toContain('RETIRED_SEARCH_ATTRIBUTES');
      expect((env(s).RETIRED_SEARCH_ATTRIBUTES ?? '').trim().split(/\s+/)).toEqual([...retiredSearchAttributes]);
    });

    it("fit Temporal's SQL visibility: at most 10 Keyword attributes and 3 of each other type", () => {
      // The Postgres schema (and the dev server's SQLite) has that many pre-allocated columns per type;
      // one more and the server refuses to register it (the dev server refuses to start).
      const limits: Record<string, number> = { KEYWORD: 10 };
      const byType = new Map<string, number>();
      for (const attr of Object.values(searchAttributes)) byType.set(attr.type, (byType.get(attr.type) ?? 0) + 1);
      for (const [type, count] of byType) expect([type, count <= (limits[type] ?? 3)]).toEqual([type, true]);
    });

    it('are exactly the ones the workflows define, with the same types', () => {
      const [, s] = setup[0] as [string, Obj];
      const registered = Object.fromEntries(
        (env(s).SEARCH_ATTRIBUTES ?? '')
          .trim()
          .split(/\s+/)
          .map((pair) => pair.split('=') as [string, string]),
      );
      // SDK type (SearchAttributeKey.type) → the `temporal` CLI's --type spelling.
      const cliType: Record<string, string> = {
        TEXT: 'Text',
        KEYWORD: 'Keyword',
        INT: 'Int',
        DOUBLE: 'Double',
        BOOL: 'Bool',
        DATETIME: 'Datetime',
        KEYWORD_LIST: 'KeywordList',
      };
      const defined = Object.fromEntries(
        Object.entries(searchAttributes).map(([key, attr]) => {
          expect(attr.name).toBe(key);
          return [attr.name, cliType[attr.type] ?? `unknown type ${attr.type}`];
        }),
      );
      expect(Object.keys(defined).length).toBeGreaterThan(0);
      expect(registered).toEqual(defined);
    });

    it('are in place before the API and worker start, after migrations', () => {
      const [setupName] = setup[0] as [string, Obj];
      for (const name of ['api', 'worker']) {
        expect(dependsOn(service(name))).toEqual(
          expect.objectContaining({
            migrate: 'service_completed_successfully',
            [setupName]: 'service_completed_successfully',
            temporal: 'service_healthy',
          }),
        );
      }
      expect(dependsOn(service('migrate'))).toEqual(expect.objectContaining({ postgres: 'service_healthy' }));
    });
  });

  const composePlugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  (composePlugin.status === 0 ? it : it.skip)('passes `docker compose config` (plugin present)', () => {
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect([result.status, result.stderr]).toEqual([0, expect.any(String)]);
  });
});

describe('docker-compose.yml and `npm run prod:local` run Temporal the same way', () => {
  const elsewhere: DatabaseLocation = { host: 'db.example', port: '6543', user: 'someone', password: 'secret' };
  const release = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

  it('pin the same server release: the images and the `go install`', () => {
    expect(String(service('temporal').image)).toBe(`temporalio/server:${release}`);
    for (const name of ['temporal-schema', 'temporal-setup']) expect([name, String(service(name).image)]).toEqual([name, `temporalio/admin-tools:${release}`]);
  });

  it('give the server the same environment, apart from where the database, the bind address and the dynamic config file are', () => {
    const composed = env(service('temporal'));
    const local = temporalServerEnv(elsewhere);
    const location = ['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD', 'BIND_ON_IP', 'DYNAMIC_CONFIG_FILE_PATH'];
    expect(Object.keys(local).sort()).toEqual(Object.keys(composed).sort());
    const settings = (all: Record<string, string>) => Object.fromEntries(Object.entries(all).filter(([name]) => !location.includes(name)));
    expect(settings(local)).toEqual(settings(composed));
    expect(Object.keys(settings(composed))).toEqual(expect.arrayContaining(['DB', 'DBNAME', 'VISIBILITY_DBNAME', 'NUM_HISTORY_SHARDS']));
    expect(local).toEqual(expect.objectContaining({ POSTGRES_SEEDS: 'db.example', DB_PORT: '6543', POSTGRES_USER: 'someone', POSTGRES_PWD: 'secret' }));
  });

  it('point the server at the same dynamic config file', () => {
    const temporal = service('temporal');
    const inContainer = posix.resolve('/etc/temporal', env(temporal).DYNAMIC_CONFIG_FILE_PATH ?? '');
    expect(hostPath(temporal, inContainer)).toBe(relative(root, dynamicConfigFile));
    expect(temporalServerEnv(elsewhere).DYNAMIC_CONFIG_FILE_PATH).toBe(dynamicConfigFile);
  });

  it("set up the schema with the same script and the same variables (SCHEMA_DIR defaults to the admin-tools image's)", () => {
    const schema = service('temporal-schema');
    expect(argv(schema.command).map((arg) => hostPath(schema, arg))).toContain(relative(root, schemaScript));
    const local = { ...readEnvFile(serverEnvFile), ...schemaToolEnv(elsewhere) };
    expect(Object.keys(env(schema)).sort()).toEqual(Object.keys(local).sort());
    expect(read(relative(root, schemaScript))).toContain('SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"');
  });

  it('set up the namespace with the same script and the same namespace and search attributes', () => {
    const setup = service('temporal-setup');
    expect(argv(setup.command).map((arg) => hostPath(setup, arg))).toContain(relative(root, namespaceScript));
    const { TEMPORAL_ADDRESS, ...composed } = env(setup);
    expect(TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(composed).toEqual(readEnvFile(namespaceEnvFile));
  });

  it('keep the shared env files to plain NAME=value lines, which compose and readEnvFile read alike', () => {
    for (const file of [serverEnvFile, namespaceEnvFile]) {
      for (const [name, value] of Object.entries(readEnvFile(file))) {
        expect([name, /^[A-Z][A-Z0-9_]*$/.test(name), /["'$\\#]/.test(value)]).toEqual([name, true, false]);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('builds on glibc Debian slim Node 20, never alpine', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) {
      expect(from).toMatch(/^FROM\s+node:20-bookworm-slim(\s+AS\s+\S+)?$/i);
    }
  });

  it('installs production dependencies from the lockfile and copies the sources', () => {
    expect(instructions.join('\n')).toMatch(/^RUN\s+npm ci\b[^\n]*--omit=dev/m);
    const copies = instructions.filter((l) => /^COPY\s/i.test(l));
    expect(copies).toContainEqual(expect.stringMatching(/^COPY\s+package\.json\s+package-lock\.json\b/));
    for (const path of ['src', 'migrations', 'tsconfig.json']) {
      const copied = copies.some((l) => l.split(/\s+/).slice(1, -1).includes(path));
      expect([path, copied, existsSync(join(root, path))]).toEqual([path, true, true]);
    }
  });

  it('runs as the node user', () => {
    const users = instructions.filter((l) => /^USER\s/i.test(l));
    expect(users[users.length - 1]).toBe('USER node');
  });

  it('defaults to the API, run by node itself so SIGTERM reaches it', () => {
    const cmds = instructions.filter((l) => /^CMD\s/i.test(l));
    const cmd = cmds[cmds.length - 1] ?? '';
    const args = JSON.parse(cmd.replace(/^CMD\s+/i, '')) as string[];
    expect(npmScriptRunBy(args)).toBe('api');
  });
});

describe('.dockerignore', () => {
  it('keeps local state, dependencies and tests out of the build context', () => {
    const entries = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim().replace(/^\/|\/$/g, ''))
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const path of ['node_modules', '.data', '.tools', '.git', 'coverage', 'test']) {
      expect(entries).toContain(path);
    }
  });
});
