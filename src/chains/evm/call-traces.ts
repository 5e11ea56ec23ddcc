/**
 * A transaction's internal payments read from its call trace, in either shape a node writes one
 * (geth's callTracer, parity's trace module). Both yield the same payments in the same order, so
 * an internal transfer's number (internalTransferIndex in chain-adapter.ts) does not depend on
 * the tracer. Nothing here asks the node; what it was given is checked as it is read.
 */
import { MalformedNodeAnswerError } from '../chain-adapter';

/** A frame of geth's callTracer (debug_trace*): the transaction's own at the top, the calls it made nested in the order they ran. */
export interface CallTracerFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  error?: string;
  calls?: CallTracerFrame[];
}

/** A frame of a parity-style trace (trace_*): a flat list, each placed in its transaction's call tree by traceAddress. */
export interface ParityTrace {
  type: string;
  action: { callType?: string; from?: string; to?: string; value?: string; address?: string; balance?: string; refundAddress?: string };
  error?: string;
  traceAddress: number[];
  transactionHash?: string | null;
  blockHash?: string;
}

/** Native coin a call frame below a transaction's own moved, and that stayed moved. */
export interface InternalPayment {
  from: string;
  to: string;
  amount: bigint;
}

/**
 * A transaction's internal payments from its callTracer trace: the CALL and SELFDESTRUCT frames
 * below the top that moved value and took effect (no error on them or on any frame above them),
 * depth-first in the order they ran. DELEGATECALL, CALLCODE and STATICCALL move nothing to another
 * address; CREATE pays a contract made there and then, never a deposit address.
 */
export function internalPaymentsOfCallTrace(top: unknown, transactionHash: string): InternalPayment[] {
  const payments: InternalPayment[] = [];
  const visit = (frame: unknown, tookEffect: boolean) => {
    if (!isCallTracerFrame(frame))
      throw new MalformedNodeAnswerError(`the call trace of ${transactionHash} has a frame callTracer does not write: ${JSON.stringify(frame)?.slice(0, 200)}`);
    const effective = tookEffect && !frame.error;
    if (frame !== top && effective && (frame.type === 'CALL' || frame.type === 'SELFDESTRUCT')) {
      const amount = quantityOf(frame.value ?? '0x0', `a ${frame.type} value in the trace of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(frame.from, transactionHash), to: addressOf(frame.to, transactionHash), amount });
    }
    for (const call of frame.calls ?? []) visit(call, effective);
  };
  visit(top, true);
  return payments;
}

function isCallTracerFrame(frame: unknown): frame is CallTracerFrame {
  const candidate = frame as CallTracerFrame | null;
  return typeof candidate?.type === 'string' && typeof candidate.from === 'string' && (candidate.calls === undefined || Array.isArray(candidate.calls));
}

/**
 * A transaction's internal payments from its parity-style traces: `call` frames (callType `call`)
 * and `suicide` frames below the top that moved value and took effect, in depth-first order (the
 * traceAddress order), the same frames callTracer's CALL and SELFDESTRUCT are.
 */
export function internalPaymentsOfParityTraces(traces: ParityTrace[], transactionHash: string): InternalPayment[] {
  const malformed = (trace: unknown) => new MalformedNodeAnswerError(`a trace of ${transactionHash} is not readable: ${JSON.stringify(trace)?.slice(0, 200)}`);
  for (const trace of traces) {
    if (typeof trace?.type !== 'string' || typeof trace.action !== 'object' || trace.action === null || !Array.isArray(trace.traceAddress)) {
      throw malformed(trace);
    }
  }
  const depthFirst = [...traces].sort((a, b) => compareTraceAddresses(a.traceAddress, b.traceAddress));
  const failed = new Set<string>();
  const payments: InternalPayment[] = [];
  for (const trace of depthFirst) {
    const path = trace.traceAddress;
    if (trace.error) failed.add(path.join('.'));
    // A frame takes effect when neither it nor any frame above it (a prefix of its address) failed.
    const effective = !Array.from({ length: path.length + 1 }, (_, depth) => path.slice(0, depth).join('.')).some((frame) => failed.has(frame));
    if (path.length === 0 || !effective) continue;
    const { action } = trace;
    if (trace.type === 'call' && action.callType === 'call') {
      const amount = quantityOf(action.value ?? '0x0', `a call value in the traces of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(action.from, transactionHash), to: addressOf(action.to, transactionHash), amount });
    } else if (trace.type === 'suicide') {
      const amount = quantityOf(action.balance ?? '0x0', `a selfdestruct balance in the traces of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(action.address, transactionHash), to: addressOf(action.refundAddress, transactionHash), amount });
    }
  }
  return payments;
}

/** Depth-first order of two frames' places in a call tree: a frame before the frames under it, siblings in the order they ran. */
function compareTraceAddresses(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function quantityOf(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value))
    throw new MalformedNodeAnswerError(`${what} is not a hex quantity: ${JSON.stringify(value)}`);
  return BigInt(value);
}

function addressOf(value: unknown, transactionHash: string): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new MalformedNodeAnswerError(`a frame in the trace of ${transactionHash} has no address where it moves value: ${JSON.stringify(value)}`);
  }
  // Lower case, as the scan matches recipients (addresses.ts).
  return value.toLowerCase();
}
