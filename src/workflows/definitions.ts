/**
 * Names shared by workflows and their clients (API, worker, watcher): search attributes, signals,
 * queries, workflow ids. Pure: safe to import from workflow code and from Node alike.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DepositStatus } from '../domain/deposit-state';

/**
 * inflow's custom search attributes. The dev server registers them at start-up and the compose
 * file's setup container does the same, so an operator can filter in the Web UI with e.g.
 * `DepositStatus = "confirming" AND Network = "ethereum"`.
 */
export const searchAttributes = {
  MerchantId: defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD),
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  Network: defineSearchAttributeKey('Network', SearchAttributeType.KEYWORD),
  Currency: defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD),
  DepositStatus: defineSearchAttributeKey('DepositStatus', SearchAttributeType.KEYWORD),
  TxHash: defineSearchAttributeKey('TxHash', SearchAttributeType.KEYWORD),
  Livemode: defineSearchAttributeKey('Livemode', SearchAttributeType.BOOL),
} as const;

/** What a chain watcher (or the test-mode simulator) reports about a deposit's block. */
export interface ConfirmationReport {
  confirmations: number;
  /** The hash of the block the deposit is in, as the reporter sees it. */
  blockHash: string | null;
  /** False when that block is no longer on the canonical chain (a reorg removed it). */
  canonical: boolean;
}

export const confirmationSignal = defineSignal<[ConfirmationReport]>('confirmation');

export interface DepositState {
  depositId: string;
  status: DepositStatus;
  confirmations: number;
  requiredConfirmations: number;
  blockHash: string | null;
  failureReason: string | null;
  reversed: boolean;
}

export const depositStateQuery = defineQuery<DepositState>('depositState');

/** One workflow per transfer and mode: a second detection of the same transfer finds the first. */
export function depositWorkflowId(transfer: { livemode: boolean; network: string; transactionHash: string; logIndex: number }): string {
  return `deposit:${transfer.livemode ? 'live' : 'test'}:${transfer.network}:${transfer.transactionHash}:${transfer.logIndex}`;
}

export function simulationWorkflowId(depositWorkflowIdValue: string): string {
  return `simulation:${depositWorkflowIdValue}`;
}

/** How long a deposit may wait for its next confirmation before it fails with reason `timeout`. */
export const DEFAULT_NO_PROGRESS_TIMEOUT = '24 hours';
/** How long a completed deposit keeps listening for a reorg that would reverse it. */
export const DEFAULT_REVERSAL_WINDOW = '1 hour';

/** The first delivery of an event to an endpoint runs once; a resend is a run of its own. */
export function webhookDeliveryWorkflowId(delivery: { eventId: string; endpointId: string; deliveryId: string }, redelivery: boolean): string {
  const id = `webhook:${delivery.eventId}:${delivery.endpointId}`;
  return redelivery ? `${id}:${delivery.deliveryId}` : id;
}

export function eventDispatchWorkflowId(eventId: string): string {
  return `dispatch:${eventId}`;
}

export interface WatcherState {
  network: string;
  livemode: boolean;
  head: number | null;
  nextBlock: number | null;
  /** Blocks between the cursor and the head: how far the watcher is behind. */
  lag: number | null;
}

export const watcherStateQuery = defineQuery<WatcherState>('watcherState');

export function chainWatcherWorkflowId(chain: { livemode: boolean; network: string }): string {
  return `watcher:${chain.livemode ? 'live' : 'test'}:${chain.network}`;
}
