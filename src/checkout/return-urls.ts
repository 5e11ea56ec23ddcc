/**
 * An order's `success_url` and `cancel_url`: where the payment page sends the payer's browser.
 * Held to the rules of webhook URLs that concern the browser (absolute http(s), no credentials, at
 * most 2048 characters, https in live mode); their host is not resolved or vetted, since inflow
 * never requests them itself: only the payer's browser, which may reach what the server must not.
 */
import { InvalidRequestError } from '../domain/errors';

const MAX_URL_LENGTH = 2048;

export function checkReturnUrl(raw: string, livemode: boolean, param: 'success_url' | 'cancel_url'): string {
  const invalid = (message: string) => new InvalidRequestError(message, param, 'url_invalid');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`${param} may be at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${param} must be an absolute http:// or https:// URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${param} must be an absolute http:// or https:// URL.`);
  if (url.username || url.password) throw invalid(`${param} must not contain credentials.`);
  if (livemode && url.protocol !== 'https:') throw invalid(`In live mode ${param} must use https://.`);
  return url.toString();
}
