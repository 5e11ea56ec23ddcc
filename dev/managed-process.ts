/**
 * One part of a stack as an OS process, run the way a process supervisor (systemd, Kubernetes)
 * would: each start in its own process group (so a signal reaches npm, tsx and node, or Postgres
 * and its backends, alike, and a terminal's Ctrl-C reaches only the runner, which stops the parts
 * in order), its output appended to a log file, "ready" decided by a condition on real state, and
 * an exit nobody asked for restarted. The chaos run (test/chaos) kills parts -9 through it;
 * `npm run prod:local` and the topology test run inflow's processes with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  /** Worked out again at every start (a restart may load what the last run saved). */
  args: string[] | (() => string[]);
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  logFile: string;
  /** True once the process serves; polled after each start. `output` is what this start has printed so far. */
  ready: (output: string) => Promise<boolean>;
  /** How long one start may take to become ready before it counts as failed. */
  readyTimeoutMs: number;
  /**
   * What an exit nobody asked for does: a restart (the default, as a supervisor would), or, when
   * false, nothing but a call to onExit (the part stays down, for someone to watch its work move).
   */
  restart?: boolean;
  /** Told the exit code or signal of an exit nobody asked for. */
  onExit?: (exit: string) => void;
}

/** A span of time in which the part did not serve: from its kill (or crash) to its next ready. */
export interface DownInterval {
  from: number;
  to: number | undefined;
  /** Down because the run killed or stopped it; false when it crashed by itself. */
  planned: boolean;
}

export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

const OUTPUT_KEPT = 256 * 1024;

/** Every process group started and not yet exited, for a last-resort kill when the runner itself exits. */
const liveGroups = new Set<number>();

/** kill -9 of every group still running, synchronously: for process.on('exit') after Ctrl-C or a crash of the runner. */
export function killEveryGroupNow(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveGroups.clear();
}
const MAX_RESTART_BACKOFF_MS = 5_000;

export class ManagedProcess {
  /** Exits while it served that nobody asked for (when, and how), each restarted by the supervisor. */
  readonly crashes: Array<{ at: number; exit: string }> = [];
  /** Starts that exited or timed out before it was ready (tried again). */
  failedStarts = 0;
  readonly downIntervals: DownInterval[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private readonly log: WriteStream;
  private starts = 0;
  /** Set while the process is meant to be down (killed by a fault, or the run is stopping). */
  private held = true;
  private supervising: Promise<void> | undefined;
  private readyNow = false;
  private lastExit: string | undefined;
  private lastExitCode: string | undefined;

  constructor(readonly spec: ProcessSpec) {
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    // A log that cannot be written must not take the run down with it.
    this.log.on('error', () => undefined);
  }

  get name(): string {
    return this.spec.name;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  /** The process id of the current start (the leader of its process group). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the current start has become ready and not exited since. */
  get isUp(): boolean {
    return this.readyNow;
  }

  /** Starts it and resolves once ready; a start that exits or times out is tried again until `deadlineMs`. */
  async up(deadlineMs = 180_000): Promise<{ attempts: number }> {
    this.held = false;
    const deadline = Date.now() + deadlineMs;
    let attempts = 0;
    let backoff = 250;
    for (;;) {
      if (this.held) throw new ProcessStartError(`${this.name}: stopped while starting`);
      attempts++;
      try {
        await this.startOnce();
        return { attempts };
      } catch (error) {
        if (this.held) throw new ProcessStartError(`${this.name}: stopped while starting`);
        this.failedStarts++;
        await this.killGroup();
        if (Date.now() > deadline) throw new ProcessStartError(`${this.name} did not become ready within ${deadlineMs} ms: ${(error as Error).message}`);
        this.note(`start failed (${(error as Error).message}); trying again in ${backoff} ms`);
        await delay(backoff);
        backoff = Math.min(backoff * 2, MAX_RESTART_BACKOFF_MS);
      }
    }
  }

  /** kill -9 of the whole process group; resolves once it has exited. The part stays down until up(). */
  async kill9(): Promise<void> {
    this.held = true;
    this.markDown(true);
    this.note('kill -9 (fault injected)');
    await this.killGroup();
  }

  /** A clean stop at the end of the run: SIGTERM, then SIGKILL if it lingers. */
  async stop(graceMs = 10_000): Promise<void> {
    this.held = true;
    this.markDown(true);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, 'SIGTERM');
    let grace: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([this.exited.then(() => true), new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), graceMs)))]);
    // Not left pending: it would keep a runner (jest, say) alive after everything has stopped.
    clearTimeout(grace);
    if (!stopped) await this.killGroup();
    // Whatever of the group outlived its leader (a child npm did not wait for) goes too.
    signalGroup(child, 'SIGKILL');
    await this.supervising;
  }

  /** The last lines of output of this start, for failure messages. */
  tail(lines = 15): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  private async startOnce(): Promise<void> {
    this.starts++;
    this.output = '';
    this.readyNow = false;
    const args = typeof this.spec.args === 'function' ? this.spec.args() : this.spec.args;
    this.note(`start #${this.starts}: ${this.spec.command} ${args.join(' ')}`);
    const child = spawn(this.spec.command, args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.spec.uid !== undefined ? { uid: this.spec.uid, gid: this.spec.gid } : {}),
    });
    this.child = child;
    if (child.pid !== undefined) liveGroups.add(child.pid);
    const relay = (chunk: Buffer) => {
      // Output can still arrive after the last stop (stdio drains after the exit); the log is closed by then.
      if (!this.log.writableEnded) this.log.write(chunk);
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    };
    child.stdout!.on('data', relay);
    child.stderr!.on('data', relay);
    let exitCode: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        exitCode = error.message;
        resolve();
      });
      child.once('exit', (code, signal) => {
        if (child.pid !== undefined) liveGroups.delete(child.pid);
        exitCode = signal ?? String(code);
        this.lastExitCode = exitCode;
        this.lastExit = `exit ${exitCode}: ${errorLineOf(this.tail(80))}`;
        this.note(`exited (${exitCode})`);
        resolve();
      });
    });
    const exited = this.exited.then(() => 'exited' as const);
    const deadline = Date.now() + this.spec.readyTimeoutMs;
    for (;;) {
      const probe = this.spec.ready(this.output).then(
        (ready) => (ready ? ('ready' as const) : ('not yet' as const)),
        () => 'not yet' as const,
      );
      const verdict = await Promise.race([exited, probe]);
      if (verdict === 'exited') throw new ProcessStartError(`exited (${exitCode}) before it was ready:\n${this.tail()}`);
      if (verdict === 'ready') break;
      if (Date.now() > deadline) throw new ProcessStartError(`not ready within ${this.spec.readyTimeoutMs} ms:\n${this.tail()}`);
      await Promise.race([exited, delay(100)]);
    }
    this.readyNow = true;
    this.markUp();
    this.note('ready');
    this.supervising = this.supervise(child);
  }

  /** Restarts the process when it exits while it is meant to run (a crash, not a fault). */
  private async supervise(child: ChildProcess): Promise<void> {
    await this.exited;
    if (this.child !== child) return;
    this.readyNow = false;
    if (this.held) return;
    this.crashes.push({ at: Date.now(), exit: this.lastExit ?? 'unknown' });
    this.markDown(false);
    this.spec.onExit?.(this.lastExitCode ?? 'unknown');
    if (this.spec.restart === false) {
      this.held = true;
      this.note('exited without being asked to: left down');
      return;
    }
    this.note('exited without being asked to: restarting');
    await this.up().catch((error: unknown) => this.note(`could not restart: ${(error as Error).message}`));
  }

  private async killGroup(): Promise<void> {
    const child = this.child;
    this.readyNow = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, 'SIGKILL');
    await this.exited;
  }

  private markDown(planned: boolean): void {
    const last = this.downIntervals.at(-1);
    if (!last || last.to !== undefined) this.downIntervals.push({ from: Date.now(), to: undefined, planned });
  }

  private markUp(): void {
    const last = this.downIntervals.at(-1);
    if (last && last.to === undefined) last.to = Date.now();
  }

  private note(line: string): void {
    if (!this.log.writableEnded) this.log.write(`\n[supervisor ${new Date().toISOString()}] ${this.name}: ${line}\n`);
  }

  /** Closes the log file (after the last stop). */
  async closeLog(): Promise<void> {
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/** The line of a dying process's output that says why: its last error line, else its last line. */
function errorLineOf(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const last = (pattern: RegExp) => [...lines].reverse().find((line) => pattern.test(line));
  return last(/^(error|\w*Error)\b/i) ?? last(/fatal|uncaught/i) ?? lines.at(-1) ?? '';
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone: nothing left in the group.
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
