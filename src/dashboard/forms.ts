/** The dashboard's POST forms (application/x-www-form-urlencoded, at most 64 KB). */
import type { Context } from 'koa';
import getRawBody from 'raw-body';

const FORM_LIMIT_BYTES = 64 * 1024;

export type Form = { get(name: string): string | undefined; getAll(name: string): string[] };

/** What a GET has instead of a form. */
export const noForm: Form = { get: () => undefined, getAll: () => [] };

/** Thrown by readForm; the router's error handler answers it with a 413 page. */
export class FormUnreadable extends Error {}

export async function readForm(ctx: Context): Promise<Form> {
  let raw: string;
  try {
    raw = await getRawBody(ctx.req, { limit: FORM_LIMIT_BYTES, encoding: 'utf8', length: ctx.get('Content-Length') || undefined });
  } catch {
    throw new FormUnreadable('The form could not be read (at most 64 KB).');
  }
  const params = new URLSearchParams(ctx.is('application/x-www-form-urlencoded') ? raw : '');
  return { get: (name) => params.get(name) ?? undefined, getAll: (name) => params.getAll(name) };
}

/** `{ [name]: value }` when the field was filled in, else nothing: the API's optional fields are left out rather than sent empty. */
export const optionalField = (name: string, value: string | undefined) => (value && value.trim() ? { [name]: value.trim() } : {});
