/**
 * How every benchmark measures, in one place so that inflow and its baseline are always measured
 * alike: the command-line flags (`--temporal dev|server|both`, `--rounds N`, `--workers 1|2|both`),
 * the header line naming the machine, warm-up then the best of several interleaved rounds, closed
 * and open loops, percentiles, and the one table the results are printed in.
 */
import os from 'node:os';
import { benchLog } from './log';

/** Which Temporal a workflow benchmark runs on: the CLI's dev server (SQLite in memory), or the real server on Postgres. */
export type Engine = 'dev' | 'server';

export const engineLabels: Record<Engine, string> = {
  dev: 'dev server',
  server: 'server (Postgres)',
};

/** The value of `--name value` or `--name=value` on the command line, if given. */
function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** A flag whose value is one of `choices`, where `both` means every other choice in turn. */
function choiceFlag<T extends string>(name: string, choices: readonly T[]): T[] {
  const value = argument(name) ?? 'both';
  if (value === 'both') return [...choices];
  if ((choices as readonly string[]).includes(value)) return [value as T];
  throw new Error(`--${name} takes ${choices.join('|')}|both, not ${value}`);
}

/** `--temporal dev|server|both` (default both): the engines to measure on, in this order. */
export function enginesFlag(): Engine[] {
  return choiceFlag('temporal', ['dev', 'server'] as const);
}

/** `--workers 1|2|both` (default both): how many worker processes share the load. */
export function workersFlag(): number[] {
  return choiceFlag('workers', ['1', '2'] as const).map(Number);
}

/** `--rounds N` (default 3): how many measured rounds each subject runs, after its warm-up. */
export function roundsFlag(): number {
  const rounds = Number(argument('rounds') ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a whole number ≥ 1, not ${argument('rounds')}`);
  return rounds;
}

/** The first line of every benchmark's output: the machine, Node, and the sizes measured, so figures are never quoted without them. */
export function printHeader(sizes: string): void {
  const cpus = os.cpus();
  const memory = `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
  console.log(`machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${memory}, ${os.type()} ${os.release()}; node ${process.version}`);
  console.log(sizes);
}

/** One measured round: a rate and, where the subject has them, its latencies in ms (sorted). */
export interface Measured {
  rate: number;
  latencies: number[];
}

function measured(latencies: number[], count: number, seconds: number): Measured {
  return { rate: count / seconds, latencies: latencies.sort((a, b) => a - b) };
}

/** The `percent` percentile of a measured round's latencies, in ms; NaN when it has none. */
export function percentile(round: Measured, percent: number): number {
  const { latencies } = round;
  if (latencies.length === 0) return Number.NaN;
  return latencies[Math.min(latencies.length - 1, Math.floor((percent / 100) * latencies.length))]!;
}

/**
 * `count` calls of `one`, `concurrency` in flight at all times: the peak rate, and each call's
 * latency: the number it resolves to when it measures its own, else how long it took.
 */
export async function closedLoop(count: number, concurrency: number, one: (i: number) => Promise<unknown>, firstIndex = 0): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = firstIndex + next++;
        const sent = performance.now();
        const own = await one(i);
        latencies.push(typeof own === 'number' ? own : performance.now() - sent);
      }
    }),
  );
  return measured(latencies, count, (performance.now() - started) / 1000);
}

/**
 * Calls at `rate` per second for `seconds`, each started on schedule whatever the earlier ones are
 * doing: latency under a given offered load. A call's latency is the number it resolves to when it
 * measures its own (from a commit, say), else the time from when it was due, so a generator that
 * falls behind counts against the system measured.
 */
export async function openLoop(rate: number, seconds: number, send: (i: number) => Promise<number | void>): Promise<Measured & { offered: number }> {
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(i).then((own) => void latencies.push(typeof own === 'number' ? own : performance.now() - due)));
  }
  await Promise.all(inFlight);
  return { ...measured(latencies, total, (performance.now() - started) / 1000), offered: rate };
}

/** Something measured in rounds: warmed once, then run once per round. */
export interface Subject<R extends Measured = Measured> {
  warmUp(): Promise<unknown>;
  round(round: number): Promise<R>;
}

/** The best round of a subject (by rate), with every round's rate beside it to show the spread. */
export type Best<R extends Measured = Measured> = R & { rates: number[] };

/**
 * Warms every subject, then runs `rounds` rounds in which each subject runs once in turn, and keeps
 * each one's best round. Interleaved, so a burst of load from elsewhere on the machine costs every
 * subject alike rather than whichever happened to run then; best-of, because noise only ever slows
 * a round down.
 */
export async function bestOfRounds<Name extends string, R extends Measured>(
  rounds: number,
  subjects: Record<Name, Subject<R>>,
): Promise<Record<Name, Best<R>>> {
  const entries = Object.entries(subjects) as Array<[Name, Subject<R>]>;
  for (const [name, subject] of entries) {
    benchLog(`${name}: warming up`);
    await subject.warmUp();
  }
  const results = new Map<Name, R[]>(entries.map(([name]) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, subject] of entries) {
      const result = await subject.round(round);
      benchLog(`${name}: round ${round}/${rounds}: ${result.rate.toFixed(1)}/s`);
      results.get(name)!.push(result);
    }
  }
  const best = (each: R[]): Best<R> => ({ ...each.reduce((a, b) => (b.rate > a.rate ? b : a)), rates: each.map((result) => result.rate) });
  return Object.fromEntries(entries.map(([name]) => [name, best(results.get(name)!)])) as Record<Name, Best<R>>;
}

/** A rate to one decimal, with the other rounds' rates after it: "41.2 (38.0, 40.1)". */
export function formatBest(best: Best): string {
  const others = best.rates.filter((rate) => rate !== best.rate).map((rate) => rate.toFixed(1));
  return others.length > 0 ? `${best.rate.toFixed(1)} (${others.join(', ')})` : best.rate.toFixed(1);
}

/** "p50 / p95 / p99" of a round's latencies, in whole ms. */
export function formatPercentiles(round: Measured, percents: number[] = [50, 95, 99]): string {
  return percents.map((percent) => percentile(round, percent).toFixed(0)).join(' / ');
}

export function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

/**
 * The one results table: a row per measurement, a column per engine (or engine × workers). A row
 * may leave a column empty (undefined), which prints as "—".
 */
export class ResultTable {
  private readonly rows: Array<{ label: string; cells: Map<string, string> }> = [];

  constructor(private readonly columns: string[]) {}

  set(label: string, column: string, value: string): void {
    let row = this.rows.find((each) => each.label === label);
    if (!row) this.rows.push((row = { label, cells: new Map() }));
    row.cells.set(column, value);
  }

  print(): void {
    console.log(`| measurement | ${this.columns.join(' | ')} |`);
    console.log(`| --- | ${this.columns.map(() => '---').join(' | ')} |`);
    for (const row of this.rows) console.log(`| ${row.label} | ${this.columns.map((column) => row.cells.get(column) ?? '—').join(' | ')} |`);
  }
}

/**
 * Runs `measure` on each engine in turn, filling `table`'s column(s) for it. An engine that fails
 * (the real server not built here, say) leaves its column empty and its error on stderr, and the
 * others still run; the process then exits 1.
 */
export async function onEachEngine(engines: Engine[], measure: (engine: Engine) => Promise<void>): Promise<void> {
  for (const engine of engines) {
    benchLog(`── Temporal ${engineLabels[engine]} ──`);
    try {
      await measure(engine);
    } catch (error) {
      benchLog(`Temporal ${engineLabels[engine]}: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    }
  }
}
