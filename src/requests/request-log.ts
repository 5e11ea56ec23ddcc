/**
 * The request log's writer: answers never wait for it. The API records each authenticated request
 * here when its answer is done (api/middleware/request-context.ts); records wait in memory and are
 * written in batches, one multi-row insert at a time, every `flushIntervalMs` or as soon as
 * `batchSize` are waiting, and what is left on close().
 *
 * Best-effort by design: a batch the database refuses is dropped with a warning, with the records
 * waiting behind it (never retried, never an error for the request), and at most `maxBuffered`
 * records wait, so a database that stays down costs a bounded amount of memory and a stopping
 * server waits for one failed insert at most; records beyond the bound are dropped and counted.
 */
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import type { NewApiRequest } from './api-requests.table';
import { insertApiRequests } from './requests.repository';

export interface RequestLogOptions {
  /** How long a record waits at most before its batch is written (250 ms). */
  flushIntervalMs?: number;
  /** Rows per insert; a full batch is written at once (200). */
  batchSize?: number;
  /** Records waiting at most; more are dropped until a write makes room (10 000). */
  maxBuffered?: number;
}

/** What `GET /requests/{id}` needs of the log: to write what waits before it looks again. */
export interface RequestLogFlusher {
  flush(): Promise<void>;
}

export const REQUEST_LOG_DEFAULTS = { flushIntervalMs: 250, batchSize: 200, maxBuffered: 10_000 } as const;

export class RequestLog implements RequestLogFlusher {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #options: Required<RequestLogOptions>;
  #buffer: NewApiRequest[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The last write queued: writes run one after another, so at most one insert is in flight. */
  #tail: Promise<void> = Promise.resolve();
  /** Writes queued that have not taken their rows yet. */
  #queued = 0;
  /** Records refused since the last warning that said so. */
  #dropped = 0;
  #closed = false;

  constructor(db: Db, logger: Logger, options: RequestLogOptions = {}) {
    this.#db = db;
    this.#logger = logger;
    this.#options = { ...REQUEST_LOG_DEFAULTS, ...options };
  }

  /** Keeps the record for the next batch; never throws, never waits. */
  record(row: NewApiRequest): void {
    if (this.#closed || this.#buffer.length >= this.#options.maxBuffered) {
      if (this.#dropped++ === 0) {
        this.#logger.warn(
          { max_buffered: this.#options.maxBuffered, closed: this.#closed },
          'request log: records are being dropped (the buffer is full or the log is closed); the request log is best-effort',
        );
      }
      return;
    }
    this.#buffer.push(row);
    // Full batches go now; the rest waits for the timer.
    void this.#queueWrites(Math.floor(this.#buffer.length / this.#options.batchSize));
    this.#schedule();
  }

  /** How many records wait to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /**
   * Writes every record waiting now (after the write in flight, if any); resolves when they are
   * written or dropped. Never rejects.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#queueWrites(Math.ceil(this.#buffer.length / this.#options.batchSize));
  }

  /** Queues writes until `batches` are queued (each takes up to a batch of the oldest records when its turn comes); the last one's promise. */
  #queueWrites(batches: number): Promise<void> {
    const needed = batches - this.#queued;
    for (let i = 0; i < needed; i++) {
      this.#queued++;
      this.#tail = this.#tail.then(() => {
        this.#queued--;
        return this.#writeBatch();
      });
    }
    return this.#tail;
  }

  /** Writes what waits and takes no more records (a server that has stopped answering). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(): void {
    if (this.#timer || this.#closed || this.#buffer.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#options.flushIntervalMs);
    // A process with nothing else to do may exit: close() writes what is left.
    this.#timer.unref();
  }

  async #writeBatch(): Promise<void> {
    const rows = this.#buffer.splice(0, this.#options.batchSize);
    if (rows.length > 0) {
      try {
        await insertApiRequests(this.#db, rows);
      } catch (error) {
        // What waits behind it goes too: against a database that is down, each insert may wait out
        // the pool's 5 s connection timeout, and a queue of them would hold a stopping server.
        const behind = this.#buffer.splice(0).length;
        this.#logger.warn(
          { err: error instanceof Error ? error.message : String(error), dropped: rows.length + behind },
          'request log: the database refused a batch, which is dropped with the records waiting behind it; the request log is best-effort',
        );
      }
    }
    if (this.#dropped > 0) {
      this.#logger.warn({ dropped: this.#dropped }, 'request log: records dropped while the buffer was full');
      this.#dropped = 0;
    }
    if (this.#buffer.length > 0 && this.#queued === 0) this.#schedule();
  }
}

/** Text as Postgres can store it and no longer than `max`: no NUL, no lone surrogate. */
export function storable(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return cut.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
