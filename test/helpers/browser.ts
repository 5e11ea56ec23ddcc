/**
 * A real headless Chromium (the system's: see dev/tools/chromium.ts) driven by puppeteer-core,
 * and where the browser tests keep their screenshots (test-artifacts/, not committed).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { readTestEnv } from './test-env';

export const screenshotDir = path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  const chromium = readTestEnv('chromium');
  if (chromium.startsWith('missing: ')) throw new Error(chromium.slice('missing: '.length));
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // Chromium's sandbox refuses to run as root (CI containers); nothing but our own pages is loaded.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Saves the page as test-artifacts/screenshots/<name>.png, full length. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}
