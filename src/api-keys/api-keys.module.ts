import type { ApiModule } from '../api/module';
import { apiKeyOperations } from './api-keys.schema';
import { apiKeyRoutes } from './api-keys.routes';

export const apiKeysModule: ApiModule<Parameters<typeof apiKeyRoutes>[0]> = {
  tag: { name: 'API keys', description: 'Secret keys: full, read-only or restricted per resource; rolled with a grace period.' },
  operations: apiKeyOperations,
  routes: apiKeyRoutes,
};
