/**
 * Provides Temporal's time-skipping test server without the SDK's download: the Java server
 * `io.temporal:temporal-test-server` and its dependencies resolved from Maven Central by
 * dev/tools/test-server/pom.xml into .tools/test-server/lib, started through a small launcher
 * script. The SDK gives a server only 5 s to accept connections, so the first start records a
 * class-data-sharing archive (AppCDS) that roughly halves every later JVM start.
 * Returns undefined when Java or Maven is missing; the caller then uses the SDK's download.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toolsDir } from './paths';
import { freePort, waitForPort } from './ports';
import { findOnPath, runWithProgress, stderrLog, type Log } from './progress';

const serverDir = path.join(toolsDir, 'test-server');
const libDir = path.join(serverDir, 'lib');
const archive = path.join(serverDir, 'test-server.jsa');
export const testServerLauncher = path.join(serverDir, 'temporal-test-server');
const pom = path.join(__dirname, 'test-server', 'pom.xml');

export async function ensureTestServer(log: Log = stderrLog): Promise<string | undefined> {
  if (existsSync(testServerLauncher) && existsSync(archive)) return testServerLauncher;
  const java = findOnPath('java');
  const mvn = findOnPath('mvn');
  if (!java || !mvn) {
    log('Temporal test server: Java or Maven is missing; the Temporal SDK will download its own.');
    return undefined;
  }
  await mkdir(serverDir, { recursive: true });
  if (!existsSync(testServerLauncher)) {
    const staging = `${libDir}.partial`;
    await rm(staging, { recursive: true, force: true });
    await runWithProgress(
      'Temporal test server (Maven Central)',
      mvn,
      ['-B', '-q', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
      { log },
    );
    await rm(libDir, { recursive: true, force: true });
    await rename(staging, libDir);
    await writeLauncher(java);
  }
  if (!existsSync(archive)) await recordClassArchive(java, log);
  return testServerLauncher;
}

async function writeLauncher(java: string): Promise<void> {
  // The SDK runs `<launcher> <port>`; -Xshare:auto ignores a stale or missing archive.
  const script = [
    '#!/bin/sh',
    '# Written by dev/tools/test-server.ts: Temporal time-skipping test server on the JVM.',
    'dir="$(cd "$(dirname "$0")" && pwd)"',
    `exec "${java}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -XX:SharedArchiveFile="$dir/test-server.jsa" \\`,
    '  -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"',
    '',
  ].join('\n');
  const staging = `${testServerLauncher}.partial`;
  await writeFile(staging, script);
  await chmod(staging, 0o755);
  await rename(staging, testServerLauncher);
}

/** Starts the server once with -XX:ArchiveClassesAtExit, waits until it listens, stops it. */
async function recordClassArchive(java: string, log: Log): Promise<void> {
  log('Temporal test server: recording a class-data archive for fast starts');
  const port = await freePort();
  const child = spawn(
    java,
    [
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-XX:ArchiveClassesAtExit=${archive}`,
      '-cp',
      `${libDir}/*`,
      'io.temporal.testserver.TestServer',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitForPort(port, 60_000);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
