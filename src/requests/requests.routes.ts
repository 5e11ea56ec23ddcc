import Router from '@koa/router';
import { callerOf, type AppState } from '../api/context';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { ResourceMissingError } from '../domain/errors';
import { requestObject } from './request.presenter';
import type { RequestLogFlusher } from './request-log';
import { findApiRequest, listApiRequests } from './requests.repository';
import { requestOperations as operations } from './requests.schema';

export function requestRoutes(deps: { db: Db; requestLog: RequestLogFlusher }): Router<AppState> {
  const router = new Router<AppState>();

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { status, failed, method, api_key_id: apiKeyId, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listApiRequests(deps.db, caller, { status, failed, method, apiKeyId }, window),
      exists: async (id) => (await findApiRequest(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(requestObject),
    });
  });

  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    // A request answered a moment ago may still wait in this process's buffer: write it, look again.
    let row = await findApiRequest(deps.db, caller, id);
    if (!row) {
      await deps.requestLog.flush();
      row = await findApiRequest(deps.db, caller, id);
    }
    // Another merchant's or mode's request is as missing as one never logged.
    if (!row) throw new ResourceMissingError(`No such request: '${id}'`, 'id');
    return requestObject(row);
  });

  return router;
}
