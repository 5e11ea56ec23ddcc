import type { Schemas } from './operations';
import { InflowClient } from './client';
import { webhooks } from './webhooks';

/**
 * The inflow API, a resource per tag of the spec. A method is one line naming its operationId:
 * its HTTP route, parameters and result come from the generated spec (sdk/src/openapi.ts), so
 * adding an operation to the API and running `npm run docs` is all a new method needs.
 *
 * ```ts
 * const inflow = new Inflow(process.env.INFLOW_API_KEY!, { baseUrl: 'https://pay.example.com' });
 * const customer = await inflow.customers.create({ email: 'ada@example.com' });
 * for await (const deposit of inflow.deposits.list({ customer_id: customer.id })) console.log(deposit.status);
 * ```
 */
export class Inflow extends InflowClient {
  /** Verifies webhook events (Standard Webhooks) and order callbacks (CryptoPayments); needs no client. */
  static readonly webhooks = webhooks;
  readonly webhooks = webhooks;

  readonly customers = {
    create: this.operation('createCustomer'),
    list: this.list('listCustomers'),
    retrieve: this.operation('retrieveCustomer'),
    update: this.operation('updateCustomer'),
    /** Archives: the customer's addresses stay watched and credited; it leaves the default list. */
    archive: this.operation('archiveCustomer'),
  };

  readonly deposits = {
    list: this.list('listDeposits'),
    /** Every deposit the list's filters match, as a CSV file streamed as it is read. */
    export: this.download('exportDeposits'),
    retrieve: this.operation('retrieveDeposit'),
    /** Test mode only: a deposit to a customer or an order, run through confirmations by the simulator. */
    simulate: this.operation('simulateDeposit'),
    /** Sends (part of) a completed deposit back to an address the customer gives: a payout linked to the deposit (`deposit_id`). */
    refund: this.operation('refundDeposit'),
  };

  readonly balance = {
    retrieve: this.operation('retrieveBalance'),
  };

  /** The ledger, as Stripe's balance transactions: one per completed deposit booked, one per reversal after a reorg, and one per completed payout. */
  readonly balanceTransactions = {
    list: this.list('listBalanceTransactions'),
    retrieve: this.operation('retrieveBalanceTransaction'),
    /** Every balance transaction the list's filters match, as a CSV file streamed as it is read. */
    export: this.download('exportBalanceTransactions'),
  };

  /** Who the key is: its merchant, its mode and its permissions (any key may ask); what payment pages show of the merchant. */
  readonly account = {
    retrieve: this.operation('retrieveAccount'),
    update: this.operation('updateAccount'),
  };

  readonly orders = {
    create: this.operation('createOrder'),
    list: this.list('listOrders'),
    retrieve: this.operation('retrieveOrder'),
    cancel: this.operation('cancelOrder'),
  };

  /** Payouts of the available balance from the treasury's hot wallet; refunds are payouts too (`deposits.refund`). */
  readonly payouts = {
    create: this.operation('createPayout'),
    list: this.list('listPayouts'),
    retrieve: this.operation('retrievePayout'),
    /** Approves a payout that `requires_approval`, with another key than the one that made it (`write` on `payout_approvals`). */
    approve: this.operation('approvePayout'),
    /** Cancels a payout nothing of which is signed yet (`requires_approval`, `pending`, `queued`), releasing what it held. */
    cancel: this.operation('cancelPayout'),
  };

  readonly events = {
    list: this.list('listEvents'),
    retrieve: this.operation('retrieveEvent'),
    resend: this.operation('resendEvent'),
    /** Every event as it happens (server-sent events): `for await (const event of inflow.events.stream({ types: 'deposit.*' }))`. */
    stream: this.stream<'streamEvents', Schemas['EventWithDeliveries']>('streamEvents'),
  };

  readonly webhookEndpoints = {
    create: this.operation('createWebhookEndpoint'),
    list: this.list('listWebhookEndpoints'),
    retrieve: this.operation('retrieveWebhookEndpoint'),
    update: this.operation('updateWebhookEndpoint'),
    del: this.operation('deleteWebhookEndpoint'),
    rotateSecret: this.operation('rotateWebhookEndpointSecret'),
    /** Sends a signed `ping` event to this endpoint alone, through the real delivery path. */
    sendTest: this.operation('sendWebhookEndpointTest'),
  };

  /** The request log: a request by the `Request-Id` its answer carried, or the recent ones (`failed: 'true'` for errors). */
  readonly requests = {
    list: this.list('listRequests'),
    retrieve: this.operation('retrieveRequest'),
  };

  readonly apiKeys = {
    create: this.operation('createApiKey'),
    list: this.list('listApiKeys'),
    retrieve: this.operation('retrieveApiKey'),
    del: this.operation('deleteApiKey'),
    roll: this.operation('rollApiKey'),
  };
}
