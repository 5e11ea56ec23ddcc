import type { ApiModule } from '../api/module';
import { orderOperations } from './orders.schema';
import { orderRoutes } from './orders.routes';

export const ordersModule: ApiModule<Parameters<typeof orderRoutes>[0]> = {
  tag: { name: 'Orders', description: 'CryptoPayments-style deposit orders with your own external_id, an amount in crypto or fiat, and an expiry.' },
  operations: orderOperations,
  routes: orderRoutes,
};
