import type { ApiModule } from '../api/module';
import { depositOperations } from './deposits.schema';
import { depositRoutes } from './deposits.routes';

export const depositsModule: ApiModule<Parameters<typeof depositRoutes>[0]> = {
  tag: { name: 'Deposits', description: 'Money seen on-chain: detected → confirming → completed, or failed (reorg, timeout), or reversed after completing.' },
  operations: depositOperations,
  routes: depositRoutes,
};
