/**
 * Every migration, in order, listed by hand: a file provider would pick up stray or renamed
 * files, and the explicit list keeps the order reviewable. Never edit a migration once merged;
 * add a new one.
 */
import type { Migration } from 'kysely';
import * as merchantsAndApiKeys from './20261121T0000-merchants-and-api-keys';
import * as customersEventsIdempotency from './20261121T0100-customers-events-idempotency';
import * as depositsLedger from './20261121T0200-deposits-ledger';
import * as webhooks from './20261121T0300-webhooks';
import * as chainCursors from './20261121T0400-chain-cursors';
import * as orders from './20261122T0000-orders';
import * as workflowOutbox from './20261123T0000-workflow-outbox';
import * as rateLimits from './20261123T0100-rate-limits';
import * as apiKeyManagement from './20261124T0000-api-key-management';
import * as customerManagement from './20261125T0000-customer-management';
import * as dashboardSessions from './20261126T0000-dashboard-sessions';
import * as chainTruth from './20261206T0000-chain-truth';
import * as addressIndexesPerMode from './20261207T0100-address-indexes-per-mode';
import * as webhookSignatureFormat from './20261207T0200-webhook-signature-format';
import * as dashboardSessionMerchant from './20261207T0300-dashboard-session-merchant';
import * as lookups from './20261207T0400-lookups';
import * as ledgerLookups from './20261207T0500-ledger-lookups';
import * as requestLog from './20261207T0600-request-log';
import * as paymentPages from './20261207T0700-payment-pages';
import * as treasury from './20261207T0800-treasury';
import * as sweepReplacements from './20261207T0900-sweep-replacements';
import * as releasedNonces from './20261207T1000-released-nonces';
import * as tronSweeps from './20261207T1100-tron-sweeps';
import * as operatorEvents from './20261207T1200-operator-events';
import * as gasWalletFunding from './20261207T1300-gas-wallet-funding';
import * as payouts from './20261207T1400-payouts';
import * as payoutFeeBasis from './20261207T1500-payout-fee-basis';
import * as merchantPayoutLimits from './20261207T1600-merchant-payout-limits';
import * as rateLimitLeases from './20261208T0000-rate-limit-leases';
import * as evmRecipientsInLowerCase from './20261208T0100-evm-recipients-in-lower-case';
import * as holdingsDepositsWithoutEntries from './20261208T0200-holdings-deposits-without-entries';

export const migrations: Record<string, Migration> = {
  '20261121T0000-merchants-and-api-keys': merchantsAndApiKeys,
  '20261121T0100-customers-events-idempotency': customersEventsIdempotency,
  '20261121T0200-deposits-ledger': depositsLedger,
  '20261121T0300-webhooks': webhooks,
  '20261121T0400-chain-cursors': chainCursors,
  '20261122T0000-orders': orders,
  '20261123T0000-workflow-outbox': workflowOutbox,
  '20261123T0100-rate-limits': rateLimits,
  '20261124T0000-api-key-management': apiKeyManagement,
  '20261125T0000-customer-management': customerManagement,
  '20261126T0000-dashboard-sessions': dashboardSessions,
  '20261206T0000-chain-truth': chainTruth,
  '20261207T0100-address-indexes-per-mode': addressIndexesPerMode,
  '20261207T0200-webhook-signature-format': webhookSignatureFormat,
  '20261207T0300-dashboard-session-merchant': dashboardSessionMerchant,
  '20261207T0400-lookups': lookups,
  '20261207T0500-ledger-lookups': ledgerLookups,
  '20261207T0600-request-log': requestLog,
  '20261207T0700-payment-pages': paymentPages,
  '20261207T0800-treasury': treasury,
  '20261207T0900-sweep-replacements': sweepReplacements,
  '20261207T1000-released-nonces': releasedNonces,
  '20261207T1100-tron-sweeps': tronSweeps,
  '20261207T1200-operator-events': operatorEvents,
  '20261207T1300-gas-wallet-funding': gasWalletFunding,
  '20261207T1400-payouts': payouts,
  '20261207T1500-payout-fee-basis': payoutFeeBasis,
  '20261207T1600-merchant-payout-limits': merchantPayoutLimits,
  '20261208T0000-rate-limit-leases': rateLimitLeases,
  '20261208T0100-evm-recipients-in-lower-case': evmRecipientsInLowerCase,
  '20261208T0200-holdings-deposits-without-entries': holdingsDepositsWithoutEntries,
};
