import type { ApiModule } from '../api/module';
import { eventOperations } from './events.schema';
import { eventRoutes } from './events.routes';

export const eventsModule: ApiModule<Parameters<typeof eventRoutes>[0]> = {
  tag: { name: 'Events', description: 'Everything that happened, as webhooks deliver it, with each delivery and attempt.' },
  operations: eventOperations,
  routes: eventRoutes,
};
