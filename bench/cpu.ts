/**
 * Where the CPU time of a measured round went, per part of the stack: this process (the load
 * generator, the client, the relay), each worker process, the Temporal server, and each Postgres
 * cluster. Read from /proc (Linux): every process started below this one is attributed to the
 * part whose root process it descends from, with the CPU of its own reaped children (Postgres's
 * short-lived backends) included. On two cores, 200 % is the whole machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** A part of the stack: its name, and how to recognise its root process (by pid, or by command line). */
export interface Part {
  name: string;
  matches(process: { pid: number; commandLine: string }): boolean;
}

interface ProcessStat {
  pid: number;
  parent: number;
  commandLine: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Linux's USER_HZ, which /proc/<pid>/stat counts in; 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

function readProcesses(): ProcessStat[] {
  const stats: ProcessStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((index) => Number(fields[index]));
      stats.push({
        pid: Number(entry),
        parent: Number(fields[1]),
        commandLine: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '),
        ticks: utime! + stime! + cutime! + cstime!,
      });
    } catch {
      // gone between the listing and the read
    }
  }
  return stats;
}

/** The key of the whole machine's busy CPU seconds (every process, ours or not) in a snapshot. */
const MACHINE = 'the whole machine';

/**
 * CPU seconds so far per part, for this process, and for the whole machine (to tell a stack that
 * waits from one starved by other work on the machine); descendants outside every part count as
 * "other".
 */
export function cpuSnapshot(parts: Part[]): Map<string, number> {
  const processes = readProcesses();
  const byPid = new Map(processes.map((each) => [each.pid, each]));
  const seconds = new Map<string, number>([
    ['this process (the benchmark, and every part run in it)', cpuSecondsOfThisProcess()],
    [MACHINE, machineBusySeconds()],
  ]);
  for (const each of processes) {
    // Walk up to this process; the first ancestor (or itself) that a part claims owns the time.
    let owner: string | undefined;
    let cursor: ProcessStat | undefined = each;
    while (cursor && cursor.pid !== process.pid) {
      owner = parts.find((part) => part.matches(cursor!))?.name ?? owner;
      cursor = byPid.get(cursor.parent);
    }
    if (!cursor) continue; // not a descendant of this process
    if (each.pid === process.pid) continue;
    const name = owner ?? 'other';
    seconds.set(name, (seconds.get(name) ?? 0) + each.ticks / TICKS_PER_SECOND);
  }
  return seconds;
}

/** Busy time of all cores from /proc/stat's first line: everything but idle and iowait. */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND;
}

function cpuSecondsOfThisProcess(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** A part's CPU over a measured span, in % of one core. */
export interface CpuShare {
  name: string;
  percent: number;
}

/** Where the CPU went over a measured span: each part, busiest first, and the whole machine (ours and others' work). */
export interface CpuUse {
  parts: CpuShare[];
  machinePercent: number;
}

/** CPU per part between two snapshots, as a share of one core over `wallSeconds`. */
export function cpuShares(before: Map<string, number>, after: Map<string, number>, wallSeconds: number): CpuUse {
  const percent = (name: string) => (100 * (after.get(name)! - (before.get(name) ?? 0))) / wallSeconds;
  return {
    parts: [...after.keys()]
      .filter((name) => name !== MACHINE)
      .map((name) => ({ name, percent: percent(name) }))
      .filter((share) => share.percent >= 0.5)
      .sort((a, b) => b.percent - a.percent),
    machinePercent: percent(MACHINE),
  };
}

function totalPercent(shares: CpuShare[]): number {
  return shares.reduce((sum, { percent }) => sum + percent, 0);
}

/** "worker 1 95 %, Temporal 60 %, … (total 190 %; the whole machine 199 %)" */
export function formatShares(use: CpuUse): string {
  const parts = use.parts.map(({ name, percent }) => `${name} ${percent.toFixed(0)} %`).join(', ');
  return `${parts} (total ${totalPercent(use.parts).toFixed(0)} %; the whole machine ${use.machinePercent.toFixed(0)} %)`;
}

/**
 * What the CPU figures say limits a rate: the whole machine when its cores are (nearly) all busy;
 * one part when it uses (nearly) a whole core, as a Node event loop or a single-threaded step
 * cannot use more; otherwise not CPU but waiting (round trips, commits to disk).
 */
export function describeLimit(use: CpuUse): string {
  const cores = os.cpus().length;
  const total = totalPercent(use.parts);
  const [busiest] = use.parts;
  if (!busiest) return 'no CPU measured';
  if (use.machinePercent >= 85 * cores && total < 85 * cores) {
    return (
      `CPU, shared: the ${cores} cores are busy (${use.machinePercent.toFixed(0)} %) but only ${total.toFixed(0)} % is this stack's; ` +
      `other work on the machine takes the rest, so this figure is not the stack's own (most of the stack's: ${busiest.name}, ${busiest.percent.toFixed(0)} %)`
    );
  }
  if (total >= 85 * cores) {
    return `CPU-bound: the ${cores} cores are busy (${total.toFixed(0)} % of ${cores * 100} %), most of it ${busiest.name} (${busiest.percent.toFixed(0)} %)`;
  }
  if (busiest.percent >= 85) return `${busiest.name} uses a whole core (${busiest.percent.toFixed(0)} %): its one event loop / thread is the limit`;
  return `no part near a whole core and the machine not saturated (${total.toFixed(0)} % of ${cores * 100} %): waiting (round trips, commits) limits it`;
}
