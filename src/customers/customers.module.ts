import type { ApiModule } from '../api/module';
import { customerOperations } from './customers.schema';
import { customerRoutes } from './customers.routes';

export const customersModule: ApiModule<Parameters<typeof customerRoutes>[0]> = {
  tag: { name: 'Customers', description: 'The people who pay you: each gets a permanent deposit address on every network.' },
  operations: customerOperations,
  routes: customerRoutes,
};
