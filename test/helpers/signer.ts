import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { testMnemonics } from '../../dev/fixtures';
import { SignerClient } from '../../src/treasury/signer-client';
import { ScriptProcess } from './script-process';

const repoRoot = path.resolve(__dirname, '../..');

export interface TestSigner {
  /** The running process (a new one after restart). */
  process: ScriptProcess;
  /** Its settings: the socket, secret, audit log and mnemonic file in its private directory, then the caller's. */
  env: Record<string, string>;
  secret: string;
  client: SignerClient;
  /** Stopped with kill -9 (a crash: nothing flushed on the way out) unless it is down already, then started again with the same files; resolves once it is back. */
  crashAndRestart(): Promise<void>;
  /** SIGTERM, wait for it to exit, remove its directory. */
  stop(): Promise<void>;
}

/**
 * The real signer process (`npm run signer`'s entry, `tsx src/signer/main.ts`) for a test file: the
 * public test mnemonic in a 0600 file of a private temp directory, its socket, secret and audit log
 * there, and the file's own settings (treasuries, tokens, limits) on top. Resolves once it started.
 */
export async function startTestSigner(settings: Record<string, string>, secret = 'a-test-signer-secret-of-at-least-32-chars'): Promise<TestSigner> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-test-signer-'));
  await writeFile(path.join(dir, 'test-mnemonic'), `${testMnemonics.test}\n`, { mode: 0o600 });
  const env = {
    INFLOW_SIGNER_SOCKET: path.join(dir, 'signer.sock'),
    INFLOW_SIGNER_SECRET: secret,
    INFLOW_SIGNER_AUDIT_LOG: path.join(dir, 'audit.log'),
    INFLOW_SIGNER_MNEMONIC_FILE_TEST: path.join(dir, 'test-mnemonic'),
    LOG_LEVEL: 'info',
    ...settings,
  };
  const start = async () => {
    const started = new ScriptProcess([path.join(repoRoot, 'node_modules', '.bin', 'tsx'), 'src/signer/main.ts'], env);
    await started.waitForOutput(/signer started/);
    return started;
  };
  const signer: TestSigner = {
    process: await start(),
    env,
    secret,
    client: new SignerClient({ socketPath: env.INFLOW_SIGNER_SOCKET, secret }),
    crashAndRestart: async () => {
      try {
        signer.process.signal('SIGKILL');
      } catch {
        // Already gone.
      }
      await signer.process.exited;
      signer.process = await start();
    },
    stop: async () => {
      signer.process.signal('SIGTERM');
      await signer.process.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return signer;
}
