/** Operator actions on merchants (the CLI and `npm run dev` use them; the public API does not). */
import { generateApiKey, hashApiKey, redactApiKey } from '../domain/api-keys';
import { newId } from '../domain/ids';
import { livemodeOf, type Mode } from '../domain/mode';
import type { Db, Executor } from '../db/database';
import { insertApiKey } from '../db/repositories/api-keys.repository';
import { insertMerchant } from '../db/repositories/merchants.repository';
import { sealApiKey } from './sealed-keys';

export interface CreatedMerchant {
  merchant_id: string;
  /** Plain-text keys exist only in this return value; the database keeps their hashes (and sealed copies). */
  test_key: string;
  live_key: string;
}

/** `secretKey` (INFLOW_SECRET_KEY) seals a copy of each key, with which order callbacks are signed. */
export async function createMerchant(db: Db, name: string, secretKey: Buffer): Promise<CreatedMerchant> {
  return db.transaction().execute(async (trx) => {
    const merchant = await insertMerchant(trx, { id: newId('merchant'), name });
    const test_key = await issueApiKey(trx, merchant.id, 'test', secretKey);
    const live_key = await issueApiKey(trx, merchant.id, 'live', secretKey);
    return { merchant_id: merchant.id, test_key, live_key };
  });
}

/** Makes a new key for the merchant and returns it in plain text, the only time it is visible. */
export async function issueApiKey(db: Executor, merchantId: string, mode: Mode, secretKey: Buffer): Promise<string> {
  const key = generateApiKey(mode);
  const id = newId('apiKey');
  await insertApiKey(db, {
    id,
    merchant_id: merchantId,
    livemode: livemodeOf(mode),
    key_hash: hashApiKey(key),
    redacted: redactApiKey(key),
    sealed_key: sealApiKey(key, secretKey, id),
  });
  return key;
}
