import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The CryptoPayments documentation's own Python, as a fixture (printing its raw body and signature, or verifying). */
export const seedPython = path.join(__dirname, '../fixtures/cryptopayments_callback.py');

/**
 * Verifies a callback as a merchant's server following the seed does: the seed's Python, run as a
 * real process, computes the HMAC of the raw body with the API key and compares it with the header.
 */
export function verifyWithSeedPython(rawBody: string, signature: string, apiKey: string): 'valid' | 'invalid' {
  return execFileSync('python3', [seedPython, 'verify', apiKey, signature], { input: rawBody, encoding: 'utf8' }).trim() as 'valid' | 'invalid';
}
