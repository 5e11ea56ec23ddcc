import type { ApiModule } from '../api/module';
import { payoutOperations } from './payouts.schema';
import { payoutRoutes } from './payouts.routes';

export const payoutsModule: ApiModule<Parameters<typeof payoutRoutes>[0]> = {
  tag: {
    name: 'Payouts',
    description:
      "Sending the available balance out: payouts to any address and refunds of deposits, from the treasury's hot wallet, each a durable workflow that pays once.",
  },
  operations: payoutOperations,
  routes: payoutRoutes,
};
