import { getAddress } from 'ethers';
import { buildMerchant } from '../../dev/fixtures';
import { redactApiKey } from '../../src/domain/api-keys';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { lines, npmRun } from '../helpers/script-process';

/**
 * `npm run cli -- trigger payout.*` as a developer runs it, against the real API (payouts enabled)
 * and worker on the Temporal dev server, Postgres. No signer and no node: a payout is made and
 * announced (`payout.created`), then its workflow fails it (nothing can send it), which is what
 * a trigger waiting for a later event must say. Sending on a chain is payouts.test.ts's.
 */
describe('npm run cli -- trigger payout.*', () => {
  let stack: TestStack;
  let withoutPayouts: TestApi;

  beforeAll(async () => {
    stack = await startTestStack('trigger-payouts', {
      api: {
        simulatedBlockTimeMs: 10,
        payouts: {
          authorizationSecret: 'trigger-test-payout-authorization-secret-0123456789',
          liveEnabled: false,
          feeUsdCents: { ethereum: 100n, polygon: 100n, bsc: 100n, arbitrum: 100n, base: 100n, tron: 100n },
        },
      },
    });
    // The same gateway without INFLOW_PAYOUT_AUTHORIZATION_SECRET.
    withoutPayouts = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, taskQueue: stack.taskQueue });
  });

  afterAll(async () => {
    await withoutPayouts?.close();
    await stack?.close();
  });

  const trigger = (merchant: CreatedMerchant, args: string[], api: TestApi = stack.api) =>
    npmRun('cli', ['trigger', ...args], { INFLOW_API_URL: `${api.baseUrl}/api/v1`, INFLOW_API_KEY: merchant.test_key });
  const apiGet = async (merchant: CreatedMerchant, path: string) =>
    (await (await stack.api.request(`/api/v1${path}`, { key: merchant.test_key })).json()) as any;
  const progressLine = (type: string, id: string) => new RegExp(`^ +\\+\\d+\\.\\d s  ${type.replace('.', '\\.')} +evt_\\w+  \\(${id}\\)$`);

  it('payout.created: funds the payout with a simulated deposit when the balance is short, then pays a random checksummed address; the next one needs no deposit', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Short');
    const run = await trigger(merchant, ['payout.created']);
    expect([run.code, lines(run.stderr)]).toEqual([
      0,
      [`inflow: API ${stack.api.baseUrl}/api/v1 (env), key ${redactApiKey(merchant.test_key)} (INFLOW_API_KEY)`],
    ]);
    const output = lines(run.stdout);
    expect(output.slice(0, 4)).toEqual([
      'the available ETH on ethereum does not cover the payout and its fee: a simulated deposit funds it',
      expect.stringMatching(/^created customer cus_\w+$/),
      expect.stringMatching(/^simulated deposit dep_\w+: 0\.010000000000000000 ETH on ethereum to 0x[0-9a-fA-F]{40}$/),
      'waiting for deposit.completed (after 12 simulated confirmations), then the payout; ^C stops waiting, not what was made',
    ]);
    const depositId = /deposit (dep_\w+)/.exec(output[2]!)![1]!;
    expect(output).toContainEqual(expect.stringMatching(progressLine('deposit.completed', depositId)));
    const created = output.find((line) => line.startsWith('created payout '))!;
    const [, payoutId, destination] = /^created payout (po_\w+): 0\.001000000000000000 ETH on ethereum to (0x[0-9a-fA-F]{40}), fee 0\.\d+ ETH$/.exec(created)!;
    expect(getAddress(destination!)).toBe(destination);
    expect(output.slice(-2)).toEqual([
      'waiting for payout.created (at once); ^C stops waiting, not what was made',
      expect.stringMatching(/^payout\.created evt_\w+ after \d+\.\d s$/),
    ]);
    // The deposit completed before the payout was made, and the payout is the one the event is about.
    expect(output.indexOf(output.find((line) => progressLine('deposit.completed', depositId).test(line))!)).toBeLessThan(output.indexOf(created));
    const eventId = /^payout\.created (evt_\w+)/.exec(output.at(-1)!)![1];
    expect(await apiGet(merchant, `/events/${eventId}`)).toMatchObject({ event: 'payout.created', data: { id: payoutId, destination, deposit_id: null } });
    expect(await apiGet(merchant, `/payouts/${payoutId}`)).toMatchObject({ amount: '0.001000000000000000', metadata: { triggered: 'payout.created' } });

    // What that deposit left covers another: no deposit this time.
    const again = await trigger(merchant, ['payout.created']);
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toEqual([
      expect.stringMatching(/^created payout po_\w+: 0\.001000000000000000 ETH on ethereum to 0x[0-9a-fA-F]{40}, fee 0\.\d+ ETH$/),
      'waiting for payout.created (at once); ^C stops waiting, not what was made',
      expect.stringMatching(/^payout\.created evt_\w+ after \d+\.\d s$/),
    ]);
    expect((await apiGet(merchant, '/deposits')).data).toHaveLength(1);
  });

  it('payout.completed: says in one line why it will not come when the payout fails (here nothing can send it), and exits 1', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Unsent');
    const run = await trigger(merchant, ['payout.completed']);
    expect(run.code).toBe(1);
    const payoutId = /created payout (po_\w+)/.exec(run.stdout)![1]!;
    expect(lines(run.stdout)).toContainEqual(expect.stringMatching(progressLine('payout.failed', payoutId)));
    expect(lines(run.stderr).at(-1)).toMatch(new RegExp(`^inflow: ${payoutId} ended with payout\\.failed: .+; payout\\.completed will not come$`));
    expect(await apiGet(merchant, `/payouts/${payoutId}`)).toMatchObject({ status: 'failed' });
  });

  it('prints the 403 payouts_disabled of an API without INFLOW_PAYOUT_AUTHORIZATION_SECRET as its one line, before making anything', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Disabled');
    const run = await trigger(merchant, ['payout.completed'], withoutPayouts);
    expect([run.code, run.stdout, lines(run.stderr).slice(1)]).toEqual([
      1,
      '',
      [expect.stringMatching(/^inflow: POST \/payouts answered 403: Payouts are not enabled on this server: .*INFLOW_PAYOUT_AUTHORIZATION_SECRET/)],
    ]);
    expect((await apiGet(merchant, '/customers')).data).toEqual([]);
    expect((await apiGet(merchant, '/deposits')).data).toEqual([]);
  });

  it('refuses the payout events no recipe makes, saying why', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Refused');
    const canceled = await trigger(merchant, ['payout.canceled']);
    expect([canceled.code, lines(canceled.stderr)]).toEqual([
      1,
      [expect.stringMatching(/^payout\.canceled cannot be triggered: .*POST \/payouts\/\{id\}\/cancel$/)],
    ]);
    const failed = await trigger(merchant, ['payout.failed']);
    expect([failed.code, lines(failed.stderr)]).toEqual([1, [expect.stringMatching(/^payout\.failed cannot be triggered: /)]]);
  });
});
