import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');

/** A command started in the repository the way an operator would, with exactly `env`. */
export class ScriptProcess {
  stdout = '';
  /** stderr without npm's own warnings about this machine's npm configuration. */
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(argv: string[], env: Record<string, string>) {
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd: repoRoot,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
      // Its own process group, so a signal reaches npm and the script alike, as from a terminal.
      detached: true,
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.listeners.forEach((listener) => listener());
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk
        .toString()
        .split('\n')
        .filter((line) => !line.startsWith('npm warn'))
        .join('\n');
      this.listeners.forEach((listener) => listener());
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Resolves when stdout or stderr matches; rejects if the process exits first. */
  waitForOutput(pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.stdout) || pattern.test(this.stderr)) {
          this.listeners.delete(check);
          resolve();
        }
      };
      this.listeners.add(check);
      void this.exited.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}:\n${this.stdout}\n${this.stderr}`)));
      check();
    });
  }

  /** Signals the whole process group, as Ctrl-C in a terminal does. */
  signal(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }
}

/** `npm run --silent <script> -- args`, to completion. */
export async function npmRun(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = new ScriptProcess(['npm', 'run', '--silent', script, '--', ...args], env);
  const code = await running.exited;
  return { code, stdout: running.stdout, stderr: running.stderr };
}

export const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
