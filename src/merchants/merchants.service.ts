/** Operator actions on merchants (the CLI and `npm run dev` use them; the public API does not). */
import { issueApiKey } from '../api-keys/api-keys.service';
import { newId } from '../domain/ids';
import type { Db } from '../db/database';
import { insertMerchant } from './merchants.repository';

export interface CreatedMerchant {
  merchant_id: string;
  /** Plain-text keys exist only in this return value; the database keeps their hashes (and sealed copies). */
  test_key: string;
  live_key: string;
}

/** A merchant with a full-access key per mode. `secretKey` (INFLOW_SECRET_KEY) seals a copy of each, with which order callbacks are signed. */
export async function createMerchant(db: Db, name: string, secretKey: Buffer): Promise<CreatedMerchant> {
  return db.transaction().execute(async (trx) => {
    const merchant = await insertMerchant(trx, { id: newId('merchant'), name });
    const test = await issueApiKey(trx, { merchantId: merchant.id, mode: 'test' }, { secretKey });
    const live = await issueApiKey(trx, { merchantId: merchant.id, mode: 'live' }, { secretKey });
    return { merchant_id: merchant.id, test_key: test.secret, live_key: live.secret };
  });
}
