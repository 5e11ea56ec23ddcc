import fc from 'fast-check';
import { sql } from 'kysely';
import { buildEndpoint, buildEvent, buildMerchant, testSecretKey } from '../../dev/fixtures';
import { createWebhookActivities } from '../../src/activities/webhook.activities';
import { deliveriesOf } from '../../src/events/emitter';
import { developmentWebhookPolicy } from '../../src/webhooks/deliveries';
import { RESPONSE_BODY_LIMIT } from '../../src/webhooks/http';
import type { AttemptResult } from '../../src/workflows/definitions';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';

/**
 * Property-based fuzzing of the delivery side against hostile receivers: random status codes,
 * headers, bodies (NUL, invalid UTF-8, 2 MB) and timings (slow, hanging past the deadline, reset
 * mid-answer, closed before answering), with Postgres failing to record some attempts after the
 * POST. The attempt activity runs as the delivery workflow runs it, one attempt number after the
 * other, with its recording step when the activity hands one back, against a real receiver and a
 * real Postgres; a lost completion is replayed by running the last attempt number again. The
 * invariant: one POST per attempt number, and every attempt recorded with storable text.
 *
 * Two things differ from production, to keep the run short and honest: the POST deadline is
 * 300 ms instead of 15 s, and answers are kept from every address (receivers here can only be on
 * loopback, whose answers production never keeps) so the hostile bytes reach the attempts table.
 *
 * Reproduce or explore: FUZZ_SEED=<seed> FUZZ_RUNS=<scale> npx jest test/fuzz/receiver-fuzz.test.ts.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261207);
const runsScale = Number(process.env.FUZZ_RUNS ?? 1);
const TIMEOUT_MS = 300;

type Timing = 'prompt' | 'slow' | 'hang' | 'reset-mid-answer' | 'close-before-answer';
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  timing: Timing;
}

const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.string({ maxLength: 200 }).map((text) => new TextEncoder().encode(`${text}\u0000${text}`)),
  fc.constantFrom(new Uint8Array([0xff, 0xfe, 0xfd]), new Uint8Array([0xc3]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array(2 * 1024 * 1024).fill(0)),
);
const answers: fc.Arbitrary<Answer> = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,12}$/), fc.stringMatching(/^[ -~]{0,40}$/), { maxKeys: 4 }),
  body: bodies,
  timing: fc.constantFrom<Timing>('prompt', 'prompt', 'slow', 'hang', 'reset-mid-answer', 'close-before-answer'),
});
const runs = fc.record({
  answers: fc.array(answers, { minLength: 1, maxLength: 3 }),
  /** How many inserts into webhook_attempts Postgres refuses first (after the POST). */
  failedRecords: fc.integer({ min: 0, max: 3 }),
});

describe('receiver fuzz (attempt activity and recording step, real receiver, real Postgres)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await sql`create table fuzz_fail_budget (n bigint not null)`.execute(db);
    await sql`insert into fuzz_fail_budget values (0)`.execute(db);
    await sql`create sequence fuzz_attempt_inserts`.execute(db);
    // A real failure of Postgres: the first `n` inserts since the sequence was reset raise
    // (nextval is not rolled back with the failed statement, so each failure counts).
    await sql`create function fuzz_fail_attempts() returns trigger language plpgsql as $$
      begin
        if nextval('fuzz_attempt_inserts') <= (select n from fuzz_fail_budget) then
          raise exception 'induced bookkeeping failure';
        end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger fuzz_fail_attempts before insert on webhook_attempts for each row execute function fuzz_fail_attempts()`.execute(db);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('makes one POST per attempt number and records every attempt, whatever the receiver does', async () => {
    const { db } = database;
    const merchant = await buildMerchant(db, 'Fuzz');
    const tenant = { merchantId: merchant.merchant_id, livemode: false };
    const activities = createWebhookActivities({
      db,
      webhookPolicy: developmentWebhookPolicy,
      secretKey: testSecretKey,
      keepsAnswerFrom: () => true,
      timeoutMs: TIMEOUT_MS,
    });
    let current: Answer[] = [];
    const receiver = await startReceiver((_request, index, response) => {
      const answer = current[index] ?? current.at(-1)!;
      const send = () => {
        if (answer.timing === 'close-before-answer') return response.socket?.destroy();
        if (answer.timing === 'hang') return; // past the deadline; closed when the receiver closes
        response.writeHead(answer.status, answer.headers);
        if (answer.timing === 'reset-mid-answer') {
          response.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
          return response.socket?.destroy();
        }
        response.end(answer.body);
      };
      if (answer.timing === 'slow') setTimeout(send, 50);
      else send();
      return 'handled';
    });
    try {
      await fc.assert(
        fc.asyncProperty(runs, async (run) => {
          receiver.requests.length = 0;
          current = run.answers;
          const endpoint = await buildEndpoint(db, tenant, { url: receiver.url, events: ['*'] });
          await db
            .updateTable('webhook_endpoints')
            .set({ disabled: true })
            .where('merchant_id', '=', tenant.merchantId)
            .where('id', '!=', endpoint.id)
            .execute();
          const event = await buildEvent(db, tenant, {});
          const [delivery] = await deliveriesOf(db, event.id);
          await sql`update fuzz_fail_budget set n = ${run.failedRecords}`.execute(db);
          await sql`select setval('fuzz_attempt_inserts', 1, false)`.execute(db);

          // As webhookDeliveryWorkflow runs it: attempt, record apart if handed back, stop unless 'retry'.
          let made = 0;
          for (let number = 1; number <= run.answers.length; number++) {
            const input = { deliveryId: delivery!.deliveryId, attemptNumber: number, attemptedAt: Date.now(), withStatus: true as const };
            const result = (await activities.attemptWebhookDelivery(input)) as AttemptResult;
            made = number;
            if (result.unrecorded) {
              // The workflow's step is a local activity retried until it succeeds.
              for (;;) {
                try {
                  await activities.recordWebhookAttempt(result.unrecorded);
                  break;
                } catch {
                  continue;
                }
              }
            }
            if (result.outcome !== 'retry') break;
          }
          // A lost completion: the last attempt number runs again, and must not POST again.
          await activities.attemptWebhookDelivery({ deliveryId: delivery!.deliveryId, attemptNumber: made, attemptedAt: Date.now(), withStatus: true });

          expect(receiver.requests).toHaveLength(made);
          const recorded = await db
            .selectFrom('webhook_attempts')
            .selectAll()
            .where('delivery_id', '=', delivery!.deliveryId)
            .orderBy('attempt_number')
            .execute();
          expect(recorded.map((attempt) => attempt.attempt_number)).toEqual(Array.from({ length: made }, (_, i) => i + 1));
          recorded.forEach((attempt, i) => {
            const answer = run.answers[i]!;
            if (answer.timing === 'prompt' || answer.timing === 'slow') {
              expect(attempt.status_code).toBe(answer.status);
              expect(attempt.succeeded).toBe(answer.status < 300);
            }
            if (answer.timing === 'hang' || answer.timing === 'close-before-answer') expect(attempt.status_code).toBeNull();
            if (attempt.response_body !== null) {
              expect(attempt.response_body.length).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT);
              expect(attempt.response_body).not.toMatch(/\u0000/);
            }
            if (attempt.error !== null) expect(attempt.error).not.toMatch(/\u0000/);
          });
        }),
        { seed, numRuns: Math.max(1, Math.round(30 * runsScale)) },
      );
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
