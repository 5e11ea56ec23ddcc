import type { CallbackOrder } from '../../src/orders/callback';
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

/** The CryptoPayments documentation's example key and the signature it gives their example order. */
export const SEED_KEY = 'e4b3d2-e963b8-fd1517-e768f7-8b1506';
export const SEED_SIGNATURE = '303d4a8ee2417d0a11fb972dcb90135e492113265e8681f4efa56293d3fce2ad';

const trx = (units: bigint) => ({ units, decimals: 6, currency: 'TRX' });
const eur = (cents: bigint) => ({ units: cents, decimals: 2, currency: 'EUR' });
const amounts = { primary: trx(2_000_000_000n), secondary: eur(46_920n), serviceFee: trx(10_000_000n), total: trx(1_990_000_000n) };

/** The seed's worked example, as inflow's serialiser receives it. */
export const seedOrder: CallbackOrder = {
  id: '1f04a929-2832-6884-ac30-872ac8bbad9a',
  status: 'completed',
  createdAt: new Date('2025-06-16T09:16:23Z'),
  updatedAt: new Date('2025-06-16T09:22:03.481Z'),
  transactions: [
    {
      id: '868',
      status: 'completed',
      createdAt: new Date('2025-06-16T09:20:08Z'),
      updatedAt: new Date('2025-06-16T09:22:03Z'),
      receiverAddress: 'TVXnBrRG7qgTB5hV19sLQx6AFFTkz4gSik',
      hash: 'fb19d86dcc22167b1910a358b25db6871bafeae46f32d995c1cf808ca212be20',
      ...amounts,
    },
  ],
  ...amounts,
  externalId: '123',
};
