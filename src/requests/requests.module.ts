import type { ApiModule } from '../api/module';
import { requestRoutes } from './requests.routes';
import { requestOperations } from './requests.schema';

export const requestsModule: ApiModule<Parameters<typeof requestRoutes>[0]> = {
  tag: {
    name: 'Requests',
    description:
      'The request log: every API request whose key authenticated, by the `Request-Id` its answer carried, kept INFLOW_REQUEST_LOG_RETENTION_DAYS (30 by default). Best-effort: written in batches after the answer, never its body, key or query string.',
  },
  operations: requestOperations,
  routes: requestRoutes,
};
