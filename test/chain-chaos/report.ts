/**
 * The run's closing report: the faults injected, the oracle's findings each with the faults that
 * touched its transaction, a summary, and last the table: per fault kind, how much was injected
 * and how many transfers it touched ended lost, doubled, wrongly credited or stuck (or broke the
 * ledger). A fault touched a transfer when an answer it altered or refused was about a block the
 * transaction has been in, or about the transaction itself (a receipt, a hidden log, a phantom);
 * a reorg touched the payments it dropped, under the fate it gave them. One finding can count for
 * several faults; "all (distinct)" counts each once. Rows are per chain (`evm logs-lag`,
 * `tron reorg→re-mined`): a finding is attributed only to faults on its own chain (a Tron txID has
 * no 0x).
 */
import { fates, type Fate, type PaymentRef, type ReorgRecord, type SentTransaction } from './driver';
import type { ChainName, Injection, ProxyFault, ProxyFaultKind } from './proxy-core';
import type { Finding, FindingKind, OracleResult } from './oracle';

export interface WindowRecord {
  chain: ChainName;
  round: number;
  fault: ProxyFault;
  fromBlock: number;
  toBlock: number | undefined;
  startedAt: number;
  injections: number;
}

export interface ReportInput {
  seed: number;
  rounds: number;
  durationMs: number;
  windows: WindowRecord[];
  injections: Injection[];
  /** Per chain driven: its proxy's fault kinds, what the runner sent (with the blocks each transaction has been in) and the reorgs it made. */
  chains: ChainRecord[];
  payments: PaymentRef[];
  oracle: OracleResult | undefined;
  settle: { quiet: boolean; waitedMs: number } | undefined;
  notes: string[];
  /** Where the run directory and its logs are, when they are kept. */
  keptFiles: string[];
}

export interface ChainRecord {
  chain: ChainName;
  faultKinds: readonly ProxyFaultKind[];
  sent: ReadonlyMap<string, SentTransaction<PaymentRef>>;
  reorgs: Array<ReorgRecord<PaymentRef>>;
}

type Row = `${ChainName} ${ProxyFaultKind | 'reorg (any depth)' | `reorg→${Fate}`}`;
const findingKinds: FindingKind[] = ['lost', 'doubled', 'wrong', 'stuck', 'ledger'];

/** The chain a transaction is on: EVM hashes have 0x, Tron txIDs none. */
export function chainOf(txHash: string): ChainName {
  return txHash.startsWith('0x') ? 'evm' : 'tron';
}

export function describeFault(fault: ProxyFault, chain: ChainName = 'evm'): string {
  switch (fault.kind) {
    case 'logs-lag':
      return chain === 'tron'
        ? `logs-lag (transaction infos of the newest ${fault.blocks} block(s) missing)`
        : `logs-lag (logs of the newest ${fault.blocks} block(s) omitted)`;
    case 'node-behind':
      return `node-behind (${fault.blocks} block(s) behind)`;
    case 'capped':
      return `capped (eth_getLogs over ${fault.blocks} block(s) refused)`;
    case 'other-fork':
      return `other-fork (one ${fault.variant})`;
    default:
      return `${fault.kind} (${Math.round(fault.rate * 100)}% of requests)`;
  }
}

/** The rows a finding counts for: the kinds of every fault that touched its transaction. */
export function touchedBy(txHash: string | undefined, input: Pick<ReportInput, 'injections' | 'chains'>): Set<Row> {
  const rows = new Set<Row>();
  if (!txHash) return rows;
  const hash = txHash.toLowerCase();
  const chain = chainOf(hash);
  const record = input.chains.find((each) => each.chain === chain);
  const heights = record?.sent.get(hash)?.heights ?? [];
  for (const injection of input.injections) {
    if (injection.chain !== chain || rows.has(`${chain} ${injection.kind}`)) continue;
    const aboutIt = injection.txHashes.includes(hash) || injection.blocks.some(([from, to]) => heights.some((height) => from <= height && height <= to));
    if (aboutIt) rows.add(`${chain} ${injection.kind}`);
  }
  for (const reorg of record?.reorgs ?? []) {
    for (const dropped of reorg.dropped) {
      if (dropped.hash !== hash || !dropped.fate) continue;
      rows.add(`${chain} reorg (any depth)`);
      rows.add(`${chain} reorg→${dropped.fate}`);
    }
  }
  return rows;
}

export function isPassing(input: Pick<ReportInput, 'oracle' | 'notes'>): boolean {
  return input.oracle !== undefined && input.oracle.findings.length === 0 && input.notes.length === 0;
}

export function buildReport(input: ReportInput): { passed: boolean; text: string } {
  const findings = input.oracle?.findings ?? [];
  const passed = isPassing(input);
  const attributed = findings.map((finding) => ({ finding, rows: touchedBy(finding.txHash, input) }));
  const lines: string[] = ['', 'Faults injected:'];
  for (const window of input.windows) {
    const blocks = `blocks ${window.fromBlock}–${window.toBlock ?? '…'}`;
    lines.push(
      `  round ${window.round}: ${window.chain} ${describeFault(window.fault, window.chain)}, ${blocks}: ${window.injections} answer(s) altered or refused`,
    );
  }
  for (const reorg of input.chains.flatMap((chain) => chain.reorgs)) {
    const dropped = reorg.dropped.map((each) =>
      each.payment ? `${each.payment.id} (${each.payment.kind}; inflow had: ${each.inflowHad}) ${each.plan}` : `a drain, ${each.plan}`,
    );
    lines.push(
      `  round ${reorg.round}: reorg ${reorg.id}, depth ${reorg.depth} at head ${reorg.head}: ${dropped.length ? `dropped ${dropped.join('; ')}` : 'dropped nothing of ours'}`,
    );
  }

  lines.push('', findings.length ? 'Findings:' : 'Findings: none');
  for (const { finding, rows } of attributed) {
    const label = finding.kind === 'wrong' ? 'WRONGLY CREDITED' : finding.kind.toUpperCase();
    lines.push(`  ${label}: ${finding.what}${paymentOf(finding, input)} [touched by: ${rows.size ? [...rows].join(', ') : 'no fault'}]`);
  }

  lines.push('', ...summary(input), `seed ${input.seed}, ${input.rounds} round(s), ${(input.durationMs / 1000).toFixed(0)} s`);
  for (const note of input.notes) lines.push(note);
  if (input.keptFiles.length > 0) lines.push('', ...input.keptFiles);
  lines.push('', table(input, attributed), `chain-chaos: ${passed ? 'PASSED' : 'FAILED'}`);
  return { passed, text: lines.join('\n') };
}

/** ", payment p7 (batch)" when the finding's transaction is one of the run's payments. */
function paymentOf(finding: Finding, input: ReportInput): string {
  const hash = finding.txHash?.toLowerCase();
  const payment = hash ? input.chains.find((chain) => chain.chain === chainOf(hash))?.sent.get(hash)?.payment : undefined;
  return payment ? `, payment ${payment.id} (${payment.kind})` : '';
}

function summary(input: ReportInput): string[] {
  const kinds = new Map<string, number>();
  for (const payment of input.payments) kinds.set(payment.kind, (kinds.get(payment.kind) ?? 0) + 1);
  const lines = [`load: ${input.payments.length} payments (${[...kinds].map(([kind, count]) => `${kind} ×${count}`).join(', ')})`];
  if (input.settle) lines.push(`settling: ${input.settle.quiet ? 'quiet' : 'NOT quiet'} after ${(input.settle.waitedMs / 1000).toFixed(1)} s`);
  const oracle = input.oracle;
  if (oracle) {
    const count = (status: string) => oracle.deposits.filter((deposit) => deposit.status === status).length;
    const reversed = oracle.deposits.filter((deposit) => deposit.reversed_at).length;
    lines.push(
      `final chain: head ${oracle.head}, ${oracle.transfers.length} transfers to customers; deposits: ${oracle.deposits.length} ` +
        `(${count('completed')} completed, ${count('failed')} failed of which ${reversed} reversed, ${count('detected') + count('confirming')} in flight)`,
    );
  }
  return lines;
}

function table(input: ReportInput, attributed: Array<{ finding: Finding; rows: Set<Row> }>): string {
  const header = ['fault', 'injected', 'lost', 'doubled', 'wrongly credited', 'stuck', 'ledger'];
  const counts = (matching: Array<{ finding: Finding }>) =>
    findingKinds.map((kind) => String(matching.filter(({ finding }) => finding.kind === kind).reduce((sum, { finding }) => sum + finding.count, 0)));
  const drops = input.chains.flatMap(({ chain, reorgs }) =>
    reorgs.flatMap((reorg) => reorg.dropped.filter((each) => each.fate).map((each) => ({ chain, ...each }))),
  );
  const injected = (chain: ChainRecord, row: Row): number => {
    if (row === `${chain.chain} reorg (any depth)`) return chain.reorgs.length;
    if (row.startsWith(`${chain.chain} reorg→`)) return drops.filter((each) => `${each.chain} reorg→${each.fate}` === row).length;
    return input.injections.filter((injection) => `${injection.chain} ${injection.kind}` === row).length;
  };
  const rows = input.chains.flatMap((chain) => {
    const names: Row[] = [...chain.faultKinds, 'reorg (any depth)' as const, ...fates.map((fate) => `reorg→${fate}` as const)].map(
      (name) => `${chain.chain} ${name}` as Row,
    );
    return names.map((row) => [row, String(injected(chain, row)), ...counts(attributed.filter(({ rows: touched }) => touched.has(row)))]);
  });
  rows.push(['(no fault touched it)', '-', ...counts(attributed.filter(({ rows: touched }) => touched.size === 0))]);
  const total = ['all (distinct)', String(input.injections.length + drops.length), ...counts(attributed)];
  const widths = header.map((title, column) => Math.max(title.length, ...[...rows, total].map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line), rule, line(total)].join('\n');
}
