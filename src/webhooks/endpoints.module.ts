import type { ApiModule } from '../api/module';
import { endpointOperations } from './endpoints.schema';
import { webhookEndpointRoutes } from './endpoints.routes';

export const webhookEndpointsModule: ApiModule<Parameters<typeof webhookEndpointRoutes>[0]> = {
  tag: { name: 'Webhook endpoints', description: 'URLs that receive signed events (Standard Webhooks), retried for 3.6 days.' },
  operations: endpointOperations,
  routes: webhookEndpointRoutes,
};
