/**
 * The worker's side of the signer (src/signer/): HTTP/1.1 over its Unix socket with the shared
 * secret. A refusal (policy, a malformed request, a wrong secret, a reused request_id) is a
 * SignerRefusedError: asking again gets the same answer. A signer that is not there, does not
 * answer in time or cannot write its audit log is a SignerUnavailableError: ask again later.
 */
import { request as httpRequest } from 'node:http';
import type { SignAnswer, SignerErrorBody, SignerErrorCode, SignerHealth, SignRequest, TronSignAnswer, TronSignRequest } from './signer-protocol';

export type { SignAnswer, SignerErrorCode, SignerHealth, SignRequest, TronSignAnswer, TronSignRequest } from './signer-protocol';

/** The signer said no; not retryable. `code` is policy_refused (403) for the policy, and says which rule in `message`. */
export class SignerRefusedError extends Error {
  override readonly name = 'SignerRefusedError';
  constructor(
    readonly status: number,
    readonly code: SignerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The signer could not be asked or could not answer (socket missing or refused, timeout, 5xx); retryable. */
export class SignerUnavailableError extends Error {
  override readonly name = 'SignerUnavailableError';
}

export interface SignerClientOptions {
  /** INFLOW_SIGNER_SOCKET */
  socketPath: string;
  /** INFLOW_SIGNER_SECRET */
  secret: string;
  /** How long one request may take (10 s). */
  timeoutMs?: number;
}

export class SignerClient {
  private readonly socketPath: string;
  private readonly secret: string;
  private readonly timeoutMs: number;

  constructor(options: SignerClientOptions) {
    this.socketPath = options.socketPath;
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  health(): Promise<SignerHealth> {
    return this.call<SignerHealth>('GET', '/v1/health');
  }

  /** Signs as asked, or throws; the same request (same request_id and body) answers the same bytes. */
  sign(request: SignRequest): Promise<SignAnswer>;
  /** A Tron transaction: the answer's signed_transaction is the body for /wallet/broadcasttransaction. */
  sign(request: TronSignRequest): Promise<TronSignAnswer>;
  sign(request: SignRequest | TronSignRequest): Promise<SignAnswer | TronSignAnswer> {
    return this.call<SignAnswer | TronSignAnswer>('POST', '/v1/sign', JSON.stringify(request));
  }

  private call<T>(method: 'GET' | 'POST', path: string, body?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const request = httpRequest(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            Authorization: `Bearer ${this.secret}`,
            ...(body !== undefined && { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
          },
          timeout: this.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(new SignerUnavailableError(`signer: the answer broke off (${error.message})`)));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return reject(new SignerUnavailableError(`signer: answered ${status} with a body that is not JSON`));
            }
            if (status === 200) return resolve(parsed as T);
            const error = (parsed as Partial<SignerErrorBody>).error;
            const message = `signer: ${error?.message ?? `answered ${status}`}`;
            if (status >= 500 || !error) return reject(new SignerUnavailableError(message));
            reject(new SignerRefusedError(status, error.code, message));
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new SignerUnavailableError(
            `signer at ${this.socketPath} is unavailable: ${error.code && !error.message.includes(error.code) ? `${error.code} ` : ''}${error.message}`,
          ),
        ),
      );
      if (body !== undefined) request.write(body);
      request.end();
    });
  }
}
