import type Router from '@koa/router';
import type { AppState } from './context';
import type { Operation } from './operation';

/**
 * What a capability gives the HTTP frame, in one value its folder exports (`<name>.module.ts`):
 * the reference section it is, its operations (the one source of its routes' validation and of
 * the OpenAPI document) and its routes. `api/modules.ts` lists them; the router, the document and
 * its sections are built from that list, so a new route is one operation and its handler, and a
 * new capability one line there.
 */
export interface ApiModule<Deps> {
  /** The OpenAPI tag its operations carry, and what the reference says about it. */
  tag: { name: string; description: string };
  operations: Record<string, Operation>;
  routes(deps: Deps): Router<AppState>;
}
