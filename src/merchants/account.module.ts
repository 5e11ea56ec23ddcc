import type { ApiModule } from '../api/module';
import { accountOperations } from './account.schema';
import { accountRoutes } from './account.routes';

export const accountModule: ApiModule<Parameters<typeof accountRoutes>[0]> = {
  tag: { name: 'Account', description: 'Who a key is: its merchant, its mode and its permissions.' },
  operations: accountOperations,
  routes: accountRoutes,
};
