import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type Log = (line: string) => void;

export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/**
 * Runs a long tool step with its output relayed line by line and a heartbeat every 15 s, so a
 * first-time build that takes minutes never looks hung. Rejects with the tail of the output.
 */
export function runWithProgress(label: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; log: Log }): Promise<void> {
  const { log } = options;
  const started = Date.now();
  log(`${label}: ${command} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log(`  ${line}`);
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    const heartbeat = setInterval(() => {
      log(`${label}: still working (${Math.round((Date.now() - started) / 1000)} s)…`);
    }, 15_000);
    child.on('error', (error) => {
      clearInterval(heartbeat);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(heartbeat);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(`${label}: done in ${seconds} s`);
        resolve();
      } else {
        reject(new Error(`${label} failed (exit ${code}) after ${seconds} s:\n${tail.join('\n')}`));
      }
    });
  });
}

/** The absolute path of `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
