/**
 * Provides a Chromium for the dashboard's browser tests. Browsers cannot be downloaded by
 * puppeteer here, so the system's Chromium is used: INFLOW_CHROMIUM_PATH, else a chromium or
 * google-chrome on the PATH. When none is found and we run as root with apt-get (a fresh Debian
 * machine or CI), Debian's `chromium` package is installed once, with its progress shown;
 * elsewhere the one command to run is named. apt caches it system-wide for later runs.
 */
import { existsSync } from 'node:fs';
import { findOnPath, runWithProgress, stderrLog, type Log } from './progress';

const candidates = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export class ChromiumMissingError extends Error {
  override readonly name = 'ChromiumMissingError';
}

export function findChromium(): string | undefined {
  const configured = process.env.INFLOW_CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  for (const name of candidates) {
    const found = findOnPath(name);
    if (found) return found;
  }
  return undefined;
}

export async function ensureChromium(log: Log = stderrLog): Promise<string> {
  const found = findChromium();
  if (found) return found;
  const aptGet = findOnPath('apt-get');
  if (process.getuid?.() !== 0 || !aptGet) {
    throw new ChromiumMissingError(
      'No Chromium for the dashboard tests: install one (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set INFLOW_CHROMIUM_PATH to a Chrome or Chromium executable.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runWithProgress('Chromium (apt-get update)', aptGet, ['update'], { env, log });
  await runWithProgress('Chromium (apt-get install chromium)', aptGet, ['install', '-y', 'chromium'], { env, log });
  const installed = findChromium();
  if (!installed) throw new ChromiumMissingError('apt-get installed chromium, but no chromium executable is on the PATH');
  return installed;
}
