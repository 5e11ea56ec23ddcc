import type { ApiModule } from '../api/module';
import { balanceOperations } from './balance.schema';
import { balanceRoutes } from './balance.routes';

export const balanceModule: ApiModule<Parameters<typeof balanceRoutes>[0]> = {
  tag: { name: 'Balance', description: 'What the mode has received, the fees taken, and the net, from the double-entry ledger.' },
  operations: balanceOperations,
  routes: balanceRoutes,
};
