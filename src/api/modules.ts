/**
 * Every capability the API serves, in the order the reference shows them: the /api/v1 router, the
 * OpenAPI document's paths and its sections are built from this one list (app.ts, openapi.ts).
 */
import { apiKeysModule } from '../api-keys/api-keys.module';
import { balanceModule } from '../balance/balance.module';
import { customersModule } from '../customers/customers.module';
import { depositsModule } from '../deposits/deposits.module';
import { eventsModule } from '../events/events.module';
import { accountModule } from '../merchants/account.module';
import { ordersModule } from '../orders/orders.module';
import { payoutsModule } from '../payouts/payouts.module';
import { requestsModule } from '../requests/requests.module';
import { webhookEndpointsModule } from '../webhooks/endpoints.module';

export const apiModules = [
  customersModule,
  depositsModule,
  balanceModule,
  ordersModule,
  payoutsModule,
  eventsModule,
  webhookEndpointsModule,
  apiKeysModule,
  requestsModule,
  accountModule,
] as const;
