/** The chaos run's closing table: per fault kind, how often it was injected and what followed it. */
import type { Anomaly, AnomalyKind } from './checks';
import { partNames, type PartName } from './stack';

export interface FaultRecord {
  round: number;
  part: PartName;
  killedAt: number;
  /** The downtime the plan chose. */
  plannedDowntimeMs: number;
  restartedAt: number;
  /** When it served again; undefined if it never did. */
  readyAt: number | undefined;
  /** Starts it took to come back (a start that exits or times out is tried again). */
  attempts: number;
  error?: string;
}

/** How long after a fault its effects count as its own: an object in flight when a part died, or made while it was down. */
const IN_FLIGHT_MS = 20_000;

/** The faults near an anomaly: killed up to IN_FLIGHT_MS after it, and not yet back a second before it. */
export function faultsNear(anomaly: Anomaly, faults: readonly FaultRecord[]): FaultRecord[] {
  return faults.filter((fault) => fault.killedAt <= anomaly.at + IN_FLIGHT_MS && (fault.readyAt ?? Infinity) >= anomaly.at - 1_000);
}

const kinds: AnomalyKind[] = ['lost', 'doubled', 'stuck', 'violation'];

/** Per part: exits while it served that the run did not cause itself, and starts that failed (tried again). */
export type PartHealth = Record<PartName, { crashes: number; failedStarts: number }>;

export function faultTable(faults: readonly FaultRecord[], anomalies: readonly Anomaly[], health: PartHealth): string {
  const header = ['fault (kill -9)', 'injected', 'down s avg/max', 'restart s avg/max', 'failed starts', 'crashes', 'lost', 'doubled', 'stuck', 'other'];
  const rows: string[][] = [];
  const countsFor = (matching: readonly Anomaly[]) => kinds.map((kind) => String(matching.filter((anomaly) => anomaly.kind === kind).length));
  const seconds = (values: number[]) =>
    values.length === 0
      ? '-'
      : `${(values.reduce((sum, value) => sum + value, 0) / values.length / 1000).toFixed(1)}/${(Math.max(...values) / 1000).toFixed(1)}`;
  for (const part of partNames) {
    const injected = faults.filter((fault) => fault.part === part);
    const near = anomalies.filter((anomaly) => faultsNear(anomaly, faults).some((fault) => fault.part === part));
    rows.push([
      part,
      String(injected.length),
      seconds(injected.filter((fault) => fault.readyAt !== undefined).map((fault) => fault.readyAt! - fault.killedAt)),
      seconds(injected.filter((fault) => fault.readyAt !== undefined).map((fault) => fault.readyAt! - fault.restartedAt)),
      String(health[part].failedStarts),
      String(health[part].crashes),
      ...countsFor(near),
    ]);
  }
  const unattributed = anomalies.filter((anomaly) => faultsNear(anomaly, faults).length === 0);
  rows.push(['(no fault near)', '-', '-', '-', '-', '-', ...countsFor(unattributed)]);
  const total = (field: 'crashes' | 'failedStarts') => String(Object.values(health).reduce((sum, part) => sum + part[field], 0));
  rows.push(['all (distinct)', String(faults.length), '-', '-', total('failedStarts'), total('crashes'), ...countsFor(anomalies)]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [
    line(header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.slice(0, -1).map(line),
    widths.map((width) => '-'.repeat(width)).join('  '),
    line(rows.at(-1)!),
  ].join('\n');
}

export function describeFault(fault: FaultRecord, runStartedAt: number): string {
  const at = ((fault.killedAt - runStartedAt) / 1000).toFixed(1);
  const back = fault.readyAt === undefined ? `never came back: ${fault.error}` : `down ${((fault.readyAt - fault.killedAt) / 1000).toFixed(1)} s`;
  const attempts = fault.attempts > 1 ? `, ${fault.attempts} starts` : '';
  return `round ${fault.round}: kill -9 ${fault.part} at +${at} s, restarted after ${(fault.plannedDowntimeMs / 1000).toFixed(1)} s, ${back}${attempts}`;
}
