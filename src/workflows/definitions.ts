/**
 * Names shared by workflows and their clients (API, worker, dev tooling): search attributes now;
 * signals and queries join them as the workflows that own them arrive.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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
