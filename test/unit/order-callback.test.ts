import { execFileSync } from 'node:child_process';
import { callbackBody, callbackSignature, type CallbackOrder } from '../../src/orders/callback';
import { seedPython, verifyWithSeedPython } from '../helpers/cryptopayments';

const SEED_KEY = 'e4b3d2-e963b8-fd1517-e768f7-8b1506';
const SEED_SIGNATURE = '303d4a8ee2417d0a11fb972dcb90135e492113265e8681f4efa56293d3fce2ad';

const trx = (units: bigint) => ({ units, decimals: 6, currency: 'TRX' });
const eur = (cents: bigint) => ({ units: cents, decimals: 2, currency: 'EUR' });
const amounts = { primary: trx(2_000_000_000n), secondary: eur(46_920n), serviceFee: trx(10_000_000n), total: trx(1_990_000_000n) };

/** The seed's worked example, as inflow's serialiser receives it. */
const seedOrder: CallbackOrder = {
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

describe('CryptoPayments order callback (the seed as a known answer)', () => {
  it("serialises the seed's example byte for byte as the seed's own Python does, and signs it to the seed's signature", () => {
    // The seed's Python, run as a real process, prints its raw body and then its signature.
    const [pythonBody, pythonSignature] = execFileSync('python3', [seedPython], { encoding: 'utf8' }).trimEnd().split('\n');
    const body = callbackBody(seedOrder);
    expect(body).toBe(pythonBody);
    expect(pythonSignature).toBe(SEED_SIGNATURE);
    expect(callbackSignature(body, SEED_KEY)).toBe(SEED_SIGNATURE);
  });

  it('is verified by the seed-style Python check on the raw body, and a changed byte is refused', () => {
    const body = callbackBody(seedOrder);
    expect(verifyWithSeedPython(body, callbackSignature(body, SEED_KEY), SEED_KEY)).toBe('valid');
    expect(verifyWithSeedPython(body.replace('1990.000000', '1990.000001'), callbackSignature(body, SEED_KEY), SEED_KEY)).toBe('invalid');
  });

  it("keeps non-ASCII text and slashes unescaped, as the seed's PHP and Python flags do", () => {
    const body = callbackBody({ ...seedOrder, externalId: 'commande/été-№7' });
    expect(body.endsWith('"externalId":"commande/été-№7"}')).toBe(true);
  });
});
