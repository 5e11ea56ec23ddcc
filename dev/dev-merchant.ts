import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../src/db/database';
import { findActiveApiKeyByHash, setSealedKey } from '../src/api-keys/api-keys.repository';
import { issueApiKey } from '../src/api-keys/api-keys.service';
import { hashApiKey } from '../src/domain/api-keys';
import { createMerchant } from '../src/merchants/merchants.service';
import { sealApiKey } from '../src/merchants/sealed-keys';
import type { Log } from './tools/progress';

/** .data/dev-merchant.json: the development merchant and its keys in plain text (the database holds their hashes). */
interface SavedMerchant {
  merchant_id: string;
  test_key: string;
  /** Kept once a devnet-only live mode was asked for (INFLOW_DEV_LIVE=on). */
  live_key?: string;
}

/**
 * The development merchant is made on first start; its test key is kept in .data/ (local only)
 * because the database holds just its hash, and printed on every start. With `live` (npm run dev's
 * INFLOW_DEV_LIVE=on) it has a live key too, kept beside the test key: made once, the first time it
 * is asked for, and usable with the devnet-only live mode that start configures.
 */
export async function ensureDevelopmentMerchant(
  db: Db,
  dataDir: string,
  secretKey: Buffer,
  log: Log,
  options: { live?: boolean } = {},
): Promise<{ testKey: string; liveKey: string | undefined }> {
  const file = path.join(dataDir, 'dev-merchant.json');
  const saved = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as SavedMerchant)
    .catch(() => undefined);
  const stored = saved && (await findActiveApiKeyByHash(db, hashApiKey(saved.test_key)));
  let merchant: SavedMerchant;
  if (saved && stored) {
    // A key made before keys were sealed: seal it now, so its order callbacks can be signed.
    if (!stored.sealed_key) await setSealedKey(db, stored.id, sealApiKey(saved.test_key, secretKey, stored.id));
    merchant = saved;
  } else {
    const created = await createMerchant(db, 'Development merchant', secretKey);
    // The live key createMerchant issues is kept only when asked for; otherwise only its hash exists.
    merchant = { merchant_id: created.merchant_id, test_key: created.test_key, ...(options.live && { live_key: created.live_key }) };
    await save(file, merchant);
    log(`made the development merchant ${created.merchant_id}; its ${options.live ? 'test and live keys are' : 'test key is'} saved in ${file}`);
  }
  if (!options.live) return { testKey: merchant.test_key, liveKey: undefined };
  const liveStored = merchant.live_key && (await findActiveApiKeyByHash(db, hashApiKey(merchant.live_key)));
  if (!liveStored || liveStored.merchant_id !== merchant.merchant_id || !liveStored.livemode) {
    const issued = await issueApiKey(db, { merchantId: merchant.merchant_id, mode: 'live' }, { name: 'npm run dev (devnet-only live mode)', secretKey });
    merchant = { ...merchant, live_key: issued.secret };
    await save(file, merchant);
    log(`made the development merchant a live key for the devnet-only live mode; saved in ${file}`);
  }
  return { testKey: merchant.test_key, liveKey: merchant.live_key };
}

async function save(file: string, merchant: SavedMerchant): Promise<void> {
  await writeFile(file, `${JSON.stringify(merchant, null, 2)}\n`, { mode: 0o600 });
}
