/**
 * A server binary as a child process (the Temporal servers and the UI server, dev/temporal.ts and
 * dev/temporal-server.ts): its output to a log file with the tail kept for error messages, in its
 * own process group, stopped with SIGTERM and then SIGKILL, and killed with the caller if that exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const STOP_GRACE_MS = 20_000;

/** Output of the server processes: to the log file when there is one, its tail kept for error messages. */
export class ProcessOutput {
  private readonly lines: string[] = [];
  private readonly file: WriteStream | undefined;

  constructor(logFile: string | undefined) {
    this.file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
    this.file?.on('error', () => undefined);
  }

  write(chunk: Buffer): void {
    if (this.file && !this.file.writableEnded) this.file.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (this.lines.length > 20) this.lines.shift();
    }
  }

  tail(): string {
    return this.lines.join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }
}

/** A server process in its own process group, so a Ctrl-C in the terminal reaches only our stop(), which stops it in order. */
export function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, output: ProcessOutput): { child: ChildProcess; exited: Promise<string> } {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => output.write(chunk));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
  // If our own process dies first, take the server with it rather than leave it holding its ports.
  const killOnExit = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  return { child, exited };
}

/** SIGTERM (the server drains and leaves its membership ring), then SIGKILL if it lingers. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let grace: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), STOP_GRACE_MS)))]);
  clearTimeout(grace);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Rejects after `ms` with the message as it is then (the output's tail by that time). */
export function timeout(ms: number, message: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message())), ms).unref());
}
