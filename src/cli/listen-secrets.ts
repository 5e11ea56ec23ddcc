/**
 * `listen`'s signing secrets: one per merchant and mode, kept in `<dev data dir>/listen-secrets/`
 * (`.data/` of the checkout, or INFLOW_DEV_DATA_DIR), so a handler configured once with
 * `whsec_…` keeps verifying across restarts of `listen`. `--rotate-secret` replaces it. Each
 * secret is a file of its own, made with an exclusive create, so two `listen`s started at once
 * for the same merchant agree on one secret; `npm run cli -- devnet receive` reads them all to
 * verify what `listen` forwards to it.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { generateWebhookSecret } from '../domain/signatures';

export const LISTEN_SECRETS_DIR = 'listen-secrets';

export const ListenSecret = z.object({
  /** Whose events it signs: a merchant id (mch_…), or the key's fingerprint when the API did not say which merchant. */
  owner: z.string().min(1),
  mode: z.enum(['test', 'live']),
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/),
  created_at: z.iso.datetime(),
});
export type ListenSecret = z.infer<typeof ListenSecret>;

export function listenSecretsDir(dataDir: string): string {
  return path.join(dataDir, LISTEN_SECRETS_DIR);
}

function fileOf(dataDir: string, owner: string, mode: string): string {
  return path.join(listenSecretsDir(dataDir), `${owner.replace(/[^\w-]/g, '_')}.${mode}.json`);
}

async function readSecret(file: string): Promise<ListenSecret | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = ListenSecret.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The owner's secret for `mode`: the kept one, or a new one when there is none, it is unreadable,
 * or `rotate` asks. `made` says whether it is new.
 */
export async function listenSecret(
  dataDir: string,
  owner: string,
  mode: 'test' | 'live',
  options: { rotate?: boolean } = {},
): Promise<{ secret: ListenSecret; file: string; made: boolean }> {
  const file = fileOf(dataDir, owner, mode);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = (): ListenSecret => ({ owner, mode, secret: generateWebhookSecret(), created_at: new Date().toISOString() });
  if (!options.rotate) {
    const kept = await readSecret(file);
    if (kept) return { secret: kept, file, made: false };
    // Exclusive: of two listens starting at once, one makes the secret and the other reads it.
    const made = fresh();
    const created = await writeFile(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        return false;
      },
    );
    if (created) return { secret: made, file, made: true };
    const other = await readSecret(file);
    if (other) return { secret: other, file, made: false };
  }
  // A rotation, or a kept file that is not a secret: replaced whole, never half written.
  const made = fresh();
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return { secret: made, file, made: true };
}

/** Every kept secret, for a receiver that verifies what `listen` forwards. */
export async function listenSecrets(dataDir: string): Promise<ListenSecret[]> {
  const dir = listenSecretsDir(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const secrets = await Promise.all(names.filter((name) => name.endsWith('.json')).map((name) => readSecret(path.join(dir, name))));
  return secrets.filter((secret): secret is ListenSecret => secret !== undefined);
}
