/**
 * What the suite's two fault proxies share (fault-proxy.ts for EVM JSON-RPC, tron-proxy.ts for
 * java-tron's HTTP API): an HTTP server on loopback in front of a node, faults switched on and off
 * by the runner, the faults that do not depend on what is asked (a share of requests whose socket
 * is destroyed, answered HTTP 502 with an HTML page, or whose answer is cut off mid-JSON), and the
 * record of every injection (an answer altered or refused), with the blocks and transactions it
 * touched, for the report to attribute outcomes to faults. Each chain's proxy says what a request
 * is about and how the faults that do depend on it (lagging logs, another fork, a node behind)
 * change its answer. Randomness comes from the run's seed.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Prng } from '../chaos/prng';

export const chainNames = ['evm', 'tron'] as const;
export type ChainName = (typeof chainNames)[number];

/** Every proxy fault either chain's proxy knows (Tron's has no `capped`: see tron-proxy.ts). */
export type ProxyFaultKind = 'logs-lag' | 'other-fork' | 'capped' | 'truncated' | 'html-error' | 'dropped' | 'node-behind';

/** A fault as the schedule switches it on; the fields used depend on the kind. */
export interface ProxyFault {
  kind: ProxyFaultKind;
  /** logs-lag, node-behind: blocks behind; capped: the widest eth_getLogs range answered. */
  blocks: number;
  /** truncated, html-error, dropped: the share of requests hit. */
  rate: number;
  /** other-fork: what the one forged answer is (each chain's proxy has its variants). */
  variant: string;
}

/** One altered or refused answer. */
export interface Injection {
  chain: ChainName;
  kind: ProxyFaultKind;
  at: number;
  what: string;
  /** Block ranges the altered calls were about (inclusive). */
  blocks: Array<[number, number]>;
  /** Transactions the altered answers concerned (lowercase). */
  txHashes: string[];
  /** True when the answer looked valid but said something untrue (not merely an error the client sees). */
  misleading: boolean;
}

/** What a request is about: its calls, for the fault log, and the blocks and transactions it names. */
export interface RequestAbout {
  what: string;
  blocks: Array<[number, number]>;
  txHashes: string[];
}

const UPSTREAM_TIMEOUT_MS = 30_000;
const BAD_GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

export abstract class FaultProxyCore {
  readonly injections: Injection[] = [];
  protected readonly active = new Map<ProxyFaultKind, ProxyFault>();
  /** other-fork answers once per window: spent after its forged answer. */
  protected otherForkSpent = false;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly chain: ChainName,
    protected readonly upstreamUrl: string,
    protected readonly prng: Prng,
    /** Told every injection (the run's fault log) and whether it was misleading. */
    private readonly report: (injection: Injection, misleading: boolean) => void,
  ) {}

  /** What the request is about (for the faults that refuse it whole). */
  protected abstract about(path: string, body: string): RequestAbout;
  /** The answer's text: the node's, altered by the content faults that are on. */
  protected abstract answer(path: string, body: string): Promise<string>;

  async listen(): Promise<string> {
    const server = http.createServer((request, response) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  switchOn(fault: ProxyFault): void {
    this.active.set(fault.kind, fault);
    if (fault.kind === 'other-fork') this.otherForkSpent = false;
  }

  switchOff(kind: ProxyFaultKind): void {
    this.active.delete(kind);
  }

  switchAllOff(): void {
    this.active.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      const body = await readBody(request);
      const path = request.url ?? '/';
      const about = () => this.about(path, body);
      if (this.hits('dropped')) {
        const { what, ...touched } = about();
        this.record({ kind: 'dropped', what: `socket destroyed, no answer to ${what}`, ...touched, misleading: false });
        request.socket.destroy();
        return;
      }
      if (this.hits('html-error')) {
        const { what, ...touched } = about();
        this.record({ kind: 'html-error', what: `HTTP 502 (HTML) for ${what}`, ...touched, misleading: false });
        response.writeHead(502, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(BAD_GATEWAY_PAGE) });
        response.end(BAD_GATEWAY_PAGE);
        return;
      }
      let text = await this.answer(path, body);
      if (this.hits('truncated')) {
        const { what, ...touched } = about();
        const cut = this.prng.int(1, Math.max(1, text.length - 1));
        this.record({ kind: 'truncated', what: `answer to ${what} cut at ${cut}/${text.length} bytes`, ...touched, misleading: false });
        text = text.slice(0, cut);
      }
      this.send(response, 200, text);
    } catch (error) {
      // The node itself failed (the run is stopping): said as a node would, never a hang.
      if (!response.headersSent) this.send(response, 503, JSON.stringify({ error: (error as Error).message }));
    }
  }

  private hits(kind: 'dropped' | 'html-error' | 'truncated'): boolean {
    const fault = this.active.get(kind);
    return fault !== undefined && this.prng.chance(fault.rate);
  }

  protected record(injection: Omit<Injection, 'at' | 'chain'>): void {
    const recorded = { ...injection, chain: this.chain, at: Date.now(), txHashes: injection.txHashes.map((hash) => hash.toLowerCase()) };
    this.injections.push(recorded);
    this.report(recorded, recorded.misleading);
  }

  /** 32 random bytes from the seed, in hex without 0x. */
  protected randomHex(): string {
    let hex = '';
    for (let i = 0; i < 8; i++) hex += this.prng.int(0, 0xffffffff).toString(16).padStart(8, '0');
    return hex;
  }

  /** The node's answer to the same request, as text. */
  protected async forwardText(path: string, body: string): Promise<string> {
    const response = await fetch(new URL(path, this.upstreamUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    return response.text();
  }

  private send(response: http.ServerResponse, status: number, text: string): void {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function short(hash: string): string {
  return `${hash.slice(0, 10)}…`;
}
