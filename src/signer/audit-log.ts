/**
 * The signer's audit log: one JSON line per decision, signed or refused, appended and fsynced
 * before the answer is sent. Each line's `prev` is the SHA-256 (hex) of the line before it, as
 * written without its newline (64 zeros for the first): editing, removing or reordering a line
 * breaks the chain from there on, which verifyAuditLog (and `npm run signer` at start) finds.
 *
 * A chain proves order and integrity, not completeness at the tail: someone who can write the
 * file can cut its last lines. Ship the log off the machine (or record the last hash elsewhere)
 * when that matters (docs/treasury.md).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  time: string;
  request_id: string;
  workflow_id: string;
  reason: string;
  kind: string;
  mode: string;
  network: string;
  chain_id: number | null;
  /** The sending address (deposit address, gas wallet or hot wallet), when the request got that far. */
  from: string | null;
  to: string | null;
  /** wei, decimal */
  value: string | null;
  /** A token transfer's contract, currency, recipient and amount (base units, decimal). */
  token: { contract: string; currency: string; recipient: string; amount: string } | null;
  /**
   * The payout's id when the request carried one (a payout's `payout.id`), else null. A signed
   * payout's line fixes its nonce (EVM) or, on Tron, its txID (`tx_hash`): the signer rebuilds
   * that from the log at start (`payout_once`). Lines written before payouts existed have no such field.
   */
  payout_id: string | null;
  nonce: number | null;
  /** The signed transaction's hash; null when refused. */
  tx_hash: string | null;
  decision: 'signed' | 'refused';
  /** The rule a refusal broke and what it says. */
  rule: string | null;
  refusal: string | null;
  /** The same request_id and body were signed before. */
  repeat: boolean;
  /** SHA-256 of the request body as parsed (canonical JSON): what a repeat is compared with. */
  request_sha256: string;
  /**
   * Tron lines only: what the bytes asked for are (contract_type, resource, fee_limit and
   * expiration as decoded; null when they do not decode) and the bytes themselves. On Tron lines
   * chain_id and nonce are null, addresses are T…, and value is sun (amount, call_value or the
   * staked balance delegated).
   */
  tron?: {
    contract_type: string | null;
    resource?: string;
    fee_limit: number | null;
    expiration: number | null;
    raw_data_hex: string;
  };
}

export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';
}

export type AuditVerification = { ok: true; lines: number; last: string } | { ok: false; lines: number; line: number; reason: string };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Checks every line of the log at `file` (an absent or empty file is a valid empty log): each is
 * a JSON object whose `prev` is the hash of the line before, and the file ends with a newline.
 * `onLine` sees each line's entry as it is checked.
 */
export async function verifyAuditLog(file: string, onLine?: (entry: AuditEntry & { prev: string }) => void): Promise<AuditVerification> {
  const size = await stat(file).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw error;
    },
  );
  if (size === 0) return { ok: true, lines: 0, last: GENESIS_HASH };
  let prev = GENESIS_HASH;
  let number = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    number++;
    let entry: AuditEntry & { prev: string };
    try {
      entry = JSON.parse(line) as AuditEntry & { prev: string };
    } catch {
      lines.close();
      return { ok: false, lines: number, line: number, reason: 'is not JSON' };
    }
    if (typeof entry !== 'object' || entry === null || entry.prev !== prev) {
      lines.close();
      return {
        ok: false,
        lines: number,
        line: number,
        reason: `its prev is not the SHA-256 of line ${number - 1} (${prev.slice(0, 12)}…): a line was edited, removed or reordered`,
      };
    }
    onLine?.(entry);
    prev = sha256Hex(line);
  }
  if (!(await endsWithNewline(file, size))) return { ok: false, lines: number, line: number, reason: 'is cut short (no newline ends it)' };
  return { ok: true, lines: number, last: prev };
}

async function endsWithNewline(file: string, size: number): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
    return bytesRead === 1 && buffer[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

/**
 * The log, open for appending. Appends run one at a time, each written and fsynced before the
 * next begins; one that fails leaves the log to be read again (and its tail checked) before the next.
 */
export class AuditLog {
  private handle: FileHandle | undefined;
  private last: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Opens the log at `file` (made, mode 0600, if absent), checking its chain; a broken one is
   * refused. `onLine` sees every entry already there (the signer remembers request ids from them).
   * A last line cut short by a crash mid-write (no newline: its decision was never answered) is
   * removed, and said so through `log`.
   */
  static async open(file: string, log: (line: string) => void, onLine?: (entry: AuditEntry) => void): Promise<AuditLog> {
    const audit = new AuditLog(file, log);
    await audit.recover(onLine);
    return audit;
  }

  /** Appends the entry as one line chained to the last, fsynced; returns the line's hash. */
  append(entry: AuditEntry): Promise<string> {
    const run = this.queue.then(() => this.write(entry));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async write(entry: AuditEntry): Promise<string> {
    try {
      if (this.last === undefined || !this.handle) await this.recover();
      const line = JSON.stringify({ ...entry, prev: this.last });
      await this.handle!.write(`${line}\n`);
      await this.handle!.sync();
      this.last = sha256Hex(line);
      return this.last;
    } catch (error) {
      // What reached the file is unknown: read it again before the next append.
      this.last = undefined;
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      throw error instanceof AuditLogError ? error : new AuditLogError(`cannot write the audit log ${this.file}: ${(error as Error).message}`);
    }
  }

  private async recover(onLine?: (entry: AuditEntry) => void): Promise<void> {
    const handle = await open(this.file, 'a+', 0o600);
    try {
      const { size } = await handle.stat();
      if (size > 0 && !(await endsWithNewline(this.file, size))) {
        // A torn last line: find the newline before it and cut there.
        const cut = await lastNewlineBefore(handle, size);
        const { buffer, bytesRead } = await handle.read(Buffer.alloc(Math.min(size - cut, 4_096)), 0, Math.min(size - cut, 4_096), cut);
        this.log(`audit log ${this.file}: removed a last line cut short by a crash (never answered): ${buffer.subarray(0, bytesRead).toString('utf8')}`);
        await handle.truncate(cut);
        await handle.sync();
      }
      const verified = await verifyAuditLog(this.file, onLine);
      if (!verified.ok)
        throw new AuditLogError(
          `the audit log ${this.file} is broken: line ${verified.line} ${verified.reason}. Keep it as evidence, move it aside, and start again with a new log`,
        );
      this.handle = handle;
      this.last = verified.last;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }
}

/** The offset just after the last newline before `size` (0 if none). */
async function lastNewlineBefore(handle: FileHandle, size: number): Promise<number> {
  const chunk = 64 * 1024;
  for (let end = size; end > 0; end -= chunk) {
    const start = Math.max(0, end - chunk);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(end - start), 0, end - start, start);
    const index = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (index >= 0) return start + index + 1;
  }
  return 0;
}
