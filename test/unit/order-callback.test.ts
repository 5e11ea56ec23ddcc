import { execFileSync } from 'node:child_process';
import { callbackBody, callbackSignature } from '../../src/orders/callback';
import { SEED_KEY, SEED_SIGNATURE, seedOrder, seedPython, verifyWithSeedPython } from '../helpers/cryptopayments';

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
