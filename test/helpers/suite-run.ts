import { spawn } from 'node:child_process';
import { repoRoot } from '../../dev/tools/paths';

export interface SuiteRun {
  /** Its exit code and its report (what it wrote to stdout), once it has ended. */
  finished: Promise<{ code: number | null; report: string }>;
  /** Ctrl-C for a run still going (a test that timed out): it stops every part it started, and this waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `npm run <script> -- <args>` as an operator runs it (the fault suites' short runs in
 * `npm test`), in a process group of its own so a stop reaches every part; its progress goes
 * straight to stderr.
 */
export function startSuiteRun(script: string, args: string[]): SuiteRun {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => (report += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let ended = false;
  const finished = exited.then((code) => {
    ended = true;
    process.stderr.write(report);
    return { code, report };
  });
  return {
    finished,
    async stop() {
      if (ended) return;
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        return;
      }
      await exited;
    },
  };
}
