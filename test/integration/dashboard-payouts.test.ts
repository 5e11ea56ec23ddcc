import { stat } from 'node:fs/promises';
import { Wallet } from 'ethers';
import type { Browser, BrowserContext, HTTPResponse, Page } from 'puppeteer-core';
import { buildCustomer, buildMerchant, buildPayout, buildTransfer, testPayoutSettings } from '../../dev/fixtures';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { completeDeposit, recordDetectedDeposit } from '../../src/deposits/transitions';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import type { PayoutStatus } from '../../src/payouts/payouts.table';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { launchBrowser, saveScreenshot } from '../helpers/browser';

// The page's globals, inside the functions puppeteer runs in the browser (the project has no DOM lib).
declare const document: any;

/**
 * The dashboard's payouts in a real headless Chromium: the Payouts page (list, filter, pages, a
 * payout's page and its cancel), the refund form of a completed deposit, and the balance levels on
 * the overview, against the real API (payouts enabled) and Postgres. No worker runs: a payout's
 * workflow waits in the outbox, so a payout stays as the API made it (`pending`) until the page
 * cancels it. The merchant's balance is a deposit completed as the deposit workflow completes it.
 */
describe('dashboard payouts and refunds (headless Chromium, real API with payouts enabled, Postgres; no worker)', () => {
  let stack: TestStack;
  let browser: Browser;
  let merchant: CreatedMerchant;
  let depositId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    stack = await startTestStack('dashboard-payouts', {
      worker: false,
      api: {
        // Worth more than $10: another key must approve it.
        payouts: { ...testPayoutSettings, approvalAboveUsdCents: 1000n },
      },
    });
    merchant = await buildMerchant(stack.database.db, 'Acme');
    // 100 USDT on ethereum, completed and booked: 98 net after the $2 fee.
    const owner = await buildCustomer(stack.database.db, { merchant });
    const { deposit } = await recordDetectedDeposit(stack.database.db, buildTransfer(owner, { amount: '100' }));
    await completeDeposit(stack.database.db, deposit.id, { confirmations: 12, priceUsd: '1.00' });
    depositId = deposit.id;
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (stack) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack?.database.destroy();
  });

  const url = (path: string) => `${stack.api.baseUrl}${path}`;

  const api = async (method: string, path: string, json?: unknown) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key: merchant.test_key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };

  /** A payout row as the API writes one with the merchant's test key, without its workflow (in any status); its amount in whole USDT, no fee. */
  const insertedPayout = (status: PayoutStatus, amountUsdt: number) =>
    buildPayout(stack.database.db, merchant, { status, amount: BigInt(amountUsdt) * 1_000_000n });

  /** A signed-in page in a browser context of its own, saying yes to the forms that ask first (data-confirm). */
  const signedInPage = async (key = merchant.test_key): Promise<Page> => {
    const context = await browser.createBrowserContext();
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(30_000);
    page.on('dialog', (dialog) => void dialog.accept());
    await open(page, '/dashboard/login');
    await page.type('form#login input[name=key]', key);
    const landed = await submit(page, 'form#login');
    expect([landed.status(), page.url()]).toEqual([200, url('/dashboard')]);
    return page;
  };

  const open = async (page: Page, path: string): Promise<HTTPResponse> => {
    const response = await page.goto(url(path), { waitUntil: 'load' });
    if (!response) throw new Error(`no response for ${path}`);
    return response;
  };

  /** Submits the form with its own submit button, as a user does, and returns the answer it lands on. */
  const submit = async (page: Page, form: string): Promise<HTTPResponse> => {
    const button = await page.waitForSelector(`${form} button[type=submit]`);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button!.click()]);
    if (!response) throw new Error(`submitting ${form} navigated nowhere`);
    return response;
  };

  const textOf = (page: Page, selector: string) => page.$eval(selector, (element: any) => String(element.textContent).trim());
  const redirectStatus = (response: HTTPResponse) => response.request().redirectChain()[0]?.response()?.status();
  const rowIds = (page: Page) => page.$$eval('tr[data-payout-id]', (rows: any[]) => rows.map((row) => String(row.getAttribute('data-payout-id'))));
  /** The overview's balance levels of USDT on ethereum. */
  const balanceLevels = async (page: Page) => {
    await open(page, '/dashboard');
    const row = '[data-balance-row][data-network="ethereum"][data-currency="USDT"]';
    return {
      available: await textOf(page, `${row} [data-field="available"]`),
      pending: await textOf(page, `${row} [data-field="pending"]`),
      paid_out: await textOf(page, `${row} [data-field="paid_out"]`),
    };
  };

  it('lists payouts by status, page by page, shows a payout, and cancels a pending and a queued one: what they held is available again', async () => {
    const destination = Wallet.createRandom().address;
    const created = await api('POST', '/payouts', { network: 'ethereum', currency: 'USDT', amount: '5', destination, external_id: 'dash-payout-1' });
    expect(created).toMatchObject({ status: 200, body: { status: 'pending', amount: '5.000000', fee: '1.000000' } });
    const pendingId = created.body.id as string;
    const queuedId = await insertedPayout('queued', 3);
    // More canceled ones than a page holds (50), oldest first.
    const canceledIds: string[] = [];
    for (let index = 0; index < 51; index++) canceledIds.push(await insertedPayout('canceled', 1));

    const page = await signedInPage();
    // Held: 5 + 1 by the API's payout and 3 by the queued one, out of the 98 net.
    expect(await balanceLevels(page)).toEqual({ available: '89.000000', pending: '9.000000', paid_out: '0.000000' });

    // The navigation leads to the list: newest first, a page of 50.
    const [listed] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('header nav a[href="/dashboard/payouts"]')]);
    expect([listed?.status(), page.url()]).toEqual([200, url('/dashboard/payouts')]);
    expect(await page.$eval('header nav a[aria-current="page"]', (link: any) => link.getAttribute('href'))).toBe('/dashboard/payouts');
    const newest = [...canceledIds].reverse();
    expect(await rowIds(page)).toEqual(newest.slice(0, 50));

    // Filtered to pending from form#payout-filters: the API's payout alone, with its status and amount.
    expect(await page.select('form#payout-filters select[name=status]', 'pending')).toEqual(['pending']);
    await submit(page, 'form#payout-filters');
    expect(page.url()).toBe(url('/dashboard/payouts?status=pending'));
    expect(await rowIds(page)).toEqual([pendingId]);
    expect(await textOf(page, `tr[data-payout-id="${pendingId}"] [data-field="status"]`)).toBe('pending');
    expect(await textOf(page, `tr[data-payout-id="${pendingId}"] [data-field="amount"]`)).toBe('5.000000 USDT');

    // Canceled: a first page of 50, and "Next page" (keeping the filter) holds the 51st.
    await open(page, '/dashboard/payouts?status=canceled');
    expect(await rowIds(page)).toEqual(newest.slice(0, 50));
    const nextHref = await page.$eval('main a[href*="starting_after"]', (link: any) => String(link.getAttribute('href')));
    expect(nextHref).toBe(`/dashboard/payouts?status=canceled&starting_after=${newest[49]}`);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('main a[href*="starting_after"]')]);
    expect(await rowIds(page)).toEqual([newest[50]]);
    expect(await page.$('main a[href*="starting_after"]')).toBeNull();

    // The pending payout's page: its fields, and its cancel.
    await open(page, '/dashboard/payouts?status=pending');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`tr[data-payout-id="${pendingId}"] a`)]);
    expect(page.url()).toBe(url(`/dashboard/payouts/${pendingId}`));
    expect(await page.title()).toContain(`Payout ${pendingId}`);
    expect(await textOf(page, '[data-payout-status]')).toBe('pending');
    expect(await textOf(page, '[data-amount]')).toBe('5.000000 USDT');
    expect(await textOf(page, '[data-fee]')).toBe('1.000000 USDT');
    expect(await textOf(page, '[data-destination]')).toBe(destination);
    expect(await textOf(page, '[data-transaction]')).toBe('—');
    expect(await page.content()).toContain('dash-payout-1');
    expect((await stat(await saveScreenshot(page, 'payout-pending'))).size).toBeGreaterThan(0);
    const canceled = await submit(page, 'form#cancel-payout');
    expect([redirectStatus(canceled), canceled.status(), page.url()]).toEqual([303, 200, url(`/dashboard/payouts/${pendingId}`)]);
    expect(await textOf(page, '[data-payout-status]')).toBe('canceled');
    expect(await page.$('form#cancel-payout')).toBeNull();
    expect((await api('GET', `/payouts/${pendingId}`)).body).toMatchObject({ status: 'canceled', completed_at: expect.any(String) });

    // The queued one, made without the API: canceled the same way.
    await open(page, `/dashboard/payouts/${queuedId}`);
    expect(await textOf(page, '[data-payout-status]')).toBe('queued');
    await submit(page, 'form#cancel-payout');
    expect(await textOf(page, '[data-payout-status]')).toBe('canceled');
    expect((await api('GET', `/payouts/${queuedId}`)).body.status).toBe('canceled');

    // A canceled payout shows no cancel; nothing is held any more.
    await open(page, `/dashboard/payouts/${newest[0]}`);
    expect(await textOf(page, '[data-payout-status]')).toBe('canceled');
    expect(await page.$('form#cancel-payout')).toBeNull();
    expect(await balanceLevels(page)).toEqual({ available: '98.000000', pending: '0.000000', paid_out: '0.000000' });
  });

  it("refunds a completed deposit from form#refund-deposit (the form's Idempotency-Key makes a resubmission the same refund); the API's refusal is an alert", async () => {
    const page = await signedInPage();
    await open(page, `/dashboard/deposits/${depositId}`);
    expect(await textOf(page, '[data-deposit-status]')).toBe('completed');
    expect(await textOf(page, '[data-refunded]')).toBe('0.000000 USDT');

    // More than the deposit's net: the API's 400, as the page's alert; nothing written.
    const destination = Wallet.createRandom().address;
    await page.type('form#refund-deposit input[name=destination]', destination);
    await page.type('form#refund-deposit input[name=amount]', '500');
    const refused = await submit(page, 'form#refund-deposit');
    expect(refused.status()).toBe(400);
    expect(await textOf(page, '[role=alert]')).toMatch(/^At most 98\.000000 USDT of this deposit can still be refunded/);
    expect((await api('GET', `/payouts?deposit_id=${depositId}`)).body.data).toEqual([]);

    await open(page, `/dashboard/deposits/${depositId}`);
    await page.type('form#refund-deposit input[name=destination]', destination);
    await page.type('form#refund-deposit input[name=amount]', '2');
    const form = await page.$eval('form#refund-deposit', (element: any) => ({
      action: String(element.getAttribute('action')),
      fields: Object.fromEntries([...element.querySelectorAll('input')].map((input: any) => [input.name, input.value])) as Record<string, string>,
    }));
    expect(form.fields.idempotency_key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const landed = await submit(page, 'form#refund-deposit');
    expect(redirectStatus(landed)).toBe(303);
    const refundId = /\/dashboard\/payouts\/(po_\w+)$/.exec(page.url())?.[1] as string;
    expect(refundId).toBeDefined();
    expect(await page.title()).toContain(`Refund ${refundId}`);
    expect(await textOf(page, '[data-payout-status]')).toBe('pending');
    expect(await textOf(page, '[data-amount]')).toBe('2.000000 USDT');
    expect(await textOf(page, '[data-destination]')).toBe(destination);
    expect(await page.$(`main a[href="/dashboard/deposits/${depositId}"]`)).not.toBeNull();
    expect(await page.$('form#cancel-payout')).not.toBeNull();
    expect((await api('GET', `/payouts/${refundId}`)).body).toMatchObject({ deposit_id: depositId, amount: '2.000000', destination, status: 'pending' });

    // The same form sent again (a double click, a resubmission): the API answers the first refund again.
    const resent = await page.evaluate(async ({ action, fields }: { action: string; fields: Record<string, string> }) => {
      const response = await fetch(action, { method: 'POST', body: new URLSearchParams(fields) });
      return { status: response.status, url: response.url };
    }, form);
    expect(resent).toEqual({ status: 200, url: url(`/dashboard/payouts/${refundId}`) });
    expect((await api('GET', `/payouts?deposit_id=${depositId}`)).body.data.map((payout: any) => payout.id)).toEqual([refundId]);

    // The deposit's page lists its refund; a new form, a new key.
    await open(page, `/dashboard/deposits/${depositId}`);
    expect(await rowIds(page)).toEqual([refundId]);
    expect(await page.$eval('form#refund-deposit input[name=idempotency_key]', (input: any) => input.value)).not.toBe(form.fields.idempotency_key);
    expect((await stat(await saveScreenshot(page, 'deposit-refunded'))).size).toBeGreaterThan(0);
    expect(await balanceLevels(page)).toEqual({ available: '95.000000', pending: '3.000000', paid_out: '0.000000' });
  });

  it("approves a payout that requires approval with another key (the key that made it gets the API's 403 as an alert), then cancels it", async () => {
    const created = await api('POST', '/payouts', { network: 'ethereum', currency: 'USDT', amount: '20', destination: Wallet.createRandom().address });
    expect(created).toMatchObject({ status: 200, body: { status: 'requires_approval' } });
    const id = created.body.id as string;

    // The key that made it may not approve it.
    const maker = await signedInPage();
    await open(maker, `/dashboard/payouts/${id}`);
    expect(await textOf(maker, '[data-payout-status]')).toBe('requires_approval');
    expect(await maker.$('form#cancel-payout')).not.toBeNull();
    const refused = await submit(maker, 'form#approve-payout');
    expect(refused.status()).toBe(403);
    expect(await textOf(maker, '[role=alert]')).toContain('approve it with a second key');
    expect((await api('GET', `/payouts/${id}`)).body).toMatchObject({ status: 'requires_approval', approved_at: null });

    // Another key of the merchant's approves it: it goes on as pending, and says when it was approved.
    const second = await api('POST', '/api-keys', { name: 'Approver', permissions: 'full' });
    expect(second.status).toBe(200);
    const approver = await signedInPage(second.body.secret as string);
    await open(approver, `/dashboard/payouts/${id}`);
    const approved = await submit(approver, 'form#approve-payout');
    expect([redirectStatus(approved), approver.url()]).toEqual([303, url(`/dashboard/payouts/${id}`)]);
    expect(await textOf(approver, '[data-payout-status]')).toBe('pending');
    expect(await approver.$('form#approve-payout')).toBeNull();
    expect(await approver.$eval('main', (element: any) => String(element.textContent))).toContain('Approved');
    expect((await api('GET', `/payouts/${id}`)).body).toMatchObject({ status: 'pending', approved_at: expect.any(String) });

    await submit(approver, 'form#cancel-payout');
    expect(await textOf(approver, '[data-payout-status]')).toBe('canceled');
  });

  it("shows a deposit's page to a key that may not read payouts, without its refunds; its refund is the API's 403 as an alert", async () => {
    const narrow = await api('POST', '/api-keys', { name: 'Deposits only', permissions: { deposits: 'read', events: 'read', balance: 'read' } });
    expect(narrow.status).toBe(200);
    const page = await signedInPage(narrow.body.secret as string);
    const shown = await open(page, `/dashboard/deposits/${depositId}`);
    expect(shown.status()).toBe(200);
    expect(await textOf(page, '[data-deposit-status]')).toBe('completed');
    expect(await page.$('tr[data-payout-id]')).toBeNull();
    await page.type('form#refund-deposit input[name=destination]', Wallet.createRandom().address);
    const refused = await submit(page, 'form#refund-deposit');
    expect(refused.status()).toBe(403);
    expect(await textOf(page, '[role=alert]')).not.toBe('');
  });

  it('shows no refund form on a deposit that is not completed', async () => {
    const owner = await buildCustomer(stack.database.db, { merchant });
    const { deposit } = await recordDetectedDeposit(stack.database.db, buildTransfer(owner, { amount: '10' }));
    const page = await signedInPage();
    await open(page, `/dashboard/deposits/${deposit.id}`);
    expect(await textOf(page, '[data-deposit-status]')).toBe('detected');
    expect(await page.$('form#refund-deposit')).toBeNull();
    expect(await page.$('[data-refunded]')).toBeNull();
    expect(await page.evaluate(() => document.querySelectorAll('tr[data-payout-id]').length)).toBe(0);
  });
});
