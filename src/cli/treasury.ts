/**
 * The treasury's operator commands (docs/treasury.md):
 *
 *   sweep --now [--network N] [--mode test|live]   runs a sweep of every watched chain (or the one named) now, on the worker, and waits
 *   reconcile [--network N] [--mode test|live]     compares the holdings ledger with the chain now; exits 1 when they differ
 *                                                  (a difference is a `reconciliation.mismatch` operator event, delivered when configured)
 *   operator-events [--limit N] [--json]           the operator events, newest first, and whether each was delivered
 *
 * Against a running `npm run dev` both work with no setup (its database, Temporal and chains).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { formatAmount } from '../domain/money';
import { modeOf } from '../domain/mode';
import { currencyOn, type Network } from '../domain/networks';
import { connectDatabase, connectTemporalClient, StartupError } from '../startup';
import { deliverOperatorEvent, listOperatorEvents, operatorEventObject } from '../events/operator-events';
import { reconcile } from '../treasury/reconcile';
import { createTreasuryDeps, sweepConfirmations } from '../treasury/treasury-deps';
import { runSweepsNow } from '../workflows/client';
import { cliEnvironment } from './dev-stack';

const options = { now: { type: 'boolean' as const, default: false }, network: { type: 'string' as const }, mode: { type: 'string' as const } };

/** The watched chains the flags name (all of them by default). */
function chainsOf(config: ReturnType<typeof loadConfig>, values: { network?: string | undefined; mode?: string | undefined }, usage: string) {
  if (values.mode !== undefined && values.mode !== 'test' && values.mode !== 'live') throw new StartupError(`--mode is test or live\n${usage}`);
  const chains = config.chains.filter(
    (chain) => (!values.network || chain.network === values.network) && (!values.mode || modeOf(chain.livemode) === values.mode),
  );
  if (chains.length === 0) {
    const watched = config.chains.map((chain) => `${chain.network} (${modeOf(chain.livemode)})`).join(', ') || 'none';
    throw new StartupError(
      `no watched chain matches${values.network ? ` --network ${values.network}` : ''}${values.mode ? ` --mode ${values.mode}` : ''} (watched: ${watched})`,
    );
  }
  return chains;
}

export async function sweepNow(args: string[], env: NodeJS.ProcessEnv, usage: string): Promise<void> {
  const { values } = parseArgs({ args, options, strict: true });
  if (!values.now) throw new StartupError(`sweep runs on its Schedule; to run it at once: sweep --now\n${usage}`);
  const environment = await cliEnvironment(env, ['database', 'temporal']);
  const config = loadConfig(environment.env, ['DATABASE_URL', 'TEMPORAL_ADDRESS']);
  const chains = chainsOf(config, values, usage);
  const temporal = await connectTemporalClient(config);
  const db = await connectDatabase(config);
  try {
    for (const chain of chains) {
      const mode = modeOf(chain.livemode);
      console.log(
        `sweeping ${chain.network} (${mode}): deposit addresses to the treasury, on the worker; each transaction waits for ${sweepConfirmations(chain)} confirmations…`,
      );
      const progress = followSweeps(db, chain.livemode, chain.network, new Date());
      try {
        const result = await runSweepsNow({ temporal, taskQueue: config.temporal.taskQueue }, { livemode: chain.livemode, network: chain.network });
        await progress.report();
        console.log(`  ${result.planned} planned: ${result.completed} completed, ${result.skipped} skipped, ${result.failed} failed`);
        if (result.failed > 0) process.exitCode = 1;
      } finally {
        progress.stop();
      }
    }
    console.log('run `npm run cli -- reconcile` to check the holdings against the chain; the Web UI shows each sweepWorkflow');
  } finally {
    await temporal.connection.close();
    await db.destroy();
  }
}

const SWEEP_STEPS: Record<string, string> = {
  pending: 'planned',
  topping_up: 'topping up its gas from the gas wallet',
  sending: 'sending to the treasury',
  completed: 'completed',
  skipped: 'skipped',
  failed: 'failed',
};

/** Tron: how a token sweep's energy is paid while it gets it. */
const ENERGY_STEPS = {
  delegation: "borrowing energy from the gas wallet's stake (given back after the transfer)",
  burn: 'topping up TRX from the gas wallet for the energy it burns',
};

/** Prints each sweep of the run as it moves from step to step (read from its row every 2 s), so a long wait is never silent. */
function followSweeps(db: Awaited<ReturnType<typeof connectDatabase>>, livemode: boolean, network: string, since: Date) {
  const seen = new Map<string, string>();
  const report = async () => {
    const sweeps = await db
      .selectFrom('sweeps')
      .select(['id', 'currency', 'decimals', 'address', 'amount', 'status', 'energy_source', 'failure_reason'])
      .where('livemode', '=', livemode)
      .where('network', '=', network)
      .where('created_at', '>=', since)
      .orderBy('created_at')
      .execute();
    for (const sweep of sweeps) {
      if (seen.get(sweep.id) === sweep.status) continue;
      seen.set(sweep.id, sweep.status);
      const amount = sweep.amount ? `${formatAmount(BigInt(sweep.amount), sweep.decimals)} ` : '';
      const why = sweep.failure_reason ? `: ${sweep.failure_reason}` : '';
      const step = sweep.status === 'topping_up' && sweep.energy_source ? ENERGY_STEPS[sweep.energy_source] : (SWEEP_STEPS[sweep.status] ?? sweep.status);
      console.log(`  ${sweep.id} ${amount}${sweep.currency} at ${sweep.address}: ${step}${why}`);
    }
  };
  const timer = setInterval(() => void report().catch(() => undefined), 2_000);
  return { report, stop: () => clearInterval(timer) };
}

export async function reconcileNow(args: string[], env: NodeJS.ProcessEnv, usage: string): Promise<void> {
  const { values } = parseArgs({ args, options: { network: options.network, mode: options.mode }, strict: true });
  const environment = await cliEnvironment(env, ['database']);
  const config = loadConfig(environment.env, ['DATABASE_URL']);
  const chains = chainsOf(config, values, usage);
  const db = await connectDatabase(config, { max: 2 });
  const deps = { db, ...createTreasuryDeps(config) };
  try {
    for (const chain of chains) {
      const report = await reconcile(deps, { livemode: chain.livemode, network: chain.network, runId: `cli:${new Date().toISOString()}` });
      const mode = modeOf(chain.livemode);
      console.log(
        `${chain.network} (${mode}): ${report.checked} balances compared, ${report.inFlight} left out while their sweeps are in flight, ${report.differences.length} difference${report.differences.length === 1 ? '' : 's'}`,
      );
      for (const difference of report.differences) {
        const decimals = currencyOn(chain.network as Network, difference.currency)?.decimals ?? 0;
        console.log(
          `  ${difference.account} ${difference.address} ${difference.currency}: ledger ${formatAmount(BigInt(difference.expected), decimals)}, chain ${formatAmount(BigInt(difference.actual), decimals)}`,
        );
      }
      for (const funding of report.funded) {
        const decimals = currencyOn(chain.network as Network, funding.currency)?.decimals ?? 0;
        console.log(
          `  ${funding.account === 'treasury' ? 'treasury (hot wallet)' : 'gas wallet'} ${funding.address} was funded ${formatAmount(BigInt(funding.amount), decimals)} ${funding.currency} since the last run: booked`,
        );
      }
      if (report.operatorEventId) {
        const delivery = await deliverOperatorEvent(db, config.operatorWebhook, report.operatorEventId).catch((error: Error) => ({
          delivered: false as const,
          reason: error.message,
        }));
        console.log(
          `  operator event ${report.operatorEventId} (reconciliation.mismatch): ${delivery.delivered ? `delivered to INFLOW_OPERATOR_WEBHOOK_URL (HTTP ${delivery.status})` : `not delivered: ${delivery.reason}`}`,
        );
      }
      if (report.differences.length > 0) process.exitCode = 1;
    }
  } finally {
    await db.destroy();
  }
}

/** The operator events, newest first: what each says, and whether it reached INFLOW_OPERATOR_WEBHOOK_URL. */
export async function operatorEvents(args: string[], env: NodeJS.ProcessEnv, usage: string): Promise<void> {
  const { values } = parseArgs({ args, options: { limit: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } }, strict: true });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new StartupError(`--limit is a whole number from 1 to 1000\n${usage}`);
  const environment = await cliEnvironment(env, ['database']);
  const config = loadConfig(environment.env, ['DATABASE_URL']);
  const db = await connectDatabase(config, { max: 1 });
  try {
    const events = await listOperatorEvents(db, limit);
    if (values.json) return console.log(JSON.stringify(events.map(operatorEventObject), null, 2));
    if (events.length === 0) return console.log('no operator events');
    for (const event of events) {
      const delivery = event.delivered_at
        ? `delivered ${event.delivered_at.toISOString()}`
        : event.last_error
          ? `not delivered after ${event.attempts} attempt${event.attempts === 1 ? '' : 's'}: ${event.last_error}`
          : 'not delivered (no INFLOW_OPERATOR_WEBHOOK_URL)';
      console.log(`${event.id} ${event.created_at.toISOString()} ${event.type} (${modeOf(event.livemode)}): ${summary(event.data)}; ${delivery}`);
    }
  } finally {
    await db.destroy();
  }
}

/** One line of what an event's data says. */
function summary(data: Record<string, unknown>): string {
  if (typeof data.payout_id === 'string') return `${String(data.network)}: payout ${data.payout_id} queued: ${String(data.reason)}`;
  const differences = Array.isArray(data.differences) ? data.differences.length : 0;
  return `${String(data.network)}: ${differences} difference${differences === 1 ? '' : 's'} (run ${String(data.run_id)})`;
}
