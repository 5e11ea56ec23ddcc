/**
 * The secret part of a payment page's address: `cs_test_` or `cs_live_` and 32 base64url
 * characters (192 random bits). Knowing it is what lets a payer see the page, so it is not the
 * order's id (which the merchant's systems log and show). The mode is part of the stored token:
 * one edited to the other mode finds nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Mode } from '../domain/mode';

const tokenPattern = /^cs_(test|live)_[A-Za-z0-9_-]{32}$/;

export function newPaymentToken(mode: Mode): string {
  return `cs_${mode}_${randomBytes(24).toString('base64url')}`;
}

export function isPaymentToken(text: string): boolean {
  return tokenPattern.test(text);
}

/** Where an order's page is, on the origin browsers reach inflow at. */
export function paymentUrl(origin: string, token: string): string {
  return `${origin}/pay/${token}`;
}
