/**
 * One build of a tool at a time, across processes and within one: a test file, `npm run dev` or
 * `npm run tools` that finds a Temporal build under way (the test run's set-up, say) waits for it
 * rather than starting a second `go install` into the same directory.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRunning } from '../../src/cli/dev-stack';
import { toolsDir } from './paths';
import type { Log } from './progress';

const POLL_MS = 1_000;
/** This process's builds under way, by name: a second caller here waits for the first. */
const underway = new Map<string, Promise<unknown>>();

/**
 * Runs `build` holding .tools/locks/<name>, unless `built()` says it is done already. When another
 * live process holds the lock, waits for it to go, then asks `built()` again (and builds if that
 * build failed). A lock whose process is gone (killed mid-build) is taken over.
 */
export async function buildOnce<T>(name: string, log: Log, built: () => Promise<T | undefined>, build: () => Promise<T>): Promise<T> {
  for (let ours = underway.get(name); ours; ours = underway.get(name)) await ours.catch(() => undefined);
  const building = lockedBuild(name, log, built, build);
  underway.set(name, building);
  try {
    return await building;
  } finally {
    underway.delete(name);
  }
}

async function lockedBuild<T>(name: string, log: Log, built: () => Promise<T | undefined>, build: () => Promise<T>): Promise<T> {
  const lock = path.join(toolsDir, 'locks', name);
  await mkdir(path.dirname(lock), { recursive: true });
  let waitingSaid = false;
  for (;;) {
    const done = await built();
    if (done !== undefined) return done;
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (holder && holder !== process.pid && isRunning(holder)) {
        if (!waitingSaid) log(`${name}: process ${holder} is building it; waiting for that build`);
        waitingSaid = true;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      } else {
        await rm(lock, { force: true });
      }
      continue;
    }
    try {
      return await build();
    } finally {
      await rm(lock, { force: true });
    }
  }
}
