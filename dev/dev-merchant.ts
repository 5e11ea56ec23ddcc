import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../src/db/database';
import { findActiveApiKeyByHash, setSealedKey } from '../src/api-keys/api-keys.repository';
import { hashApiKey } from '../src/domain/api-keys';
import { createMerchant } from '../src/merchants/merchants.service';
import { sealApiKey } from '../src/merchants/sealed-keys';
import type { Log } from './tools/progress';

/**
 * The development merchant is made on first start; its test key is kept in .data/ (local only)
 * because the database holds just its hash, and printed on every start.
 */
export async function ensureDevelopmentMerchant(db: Db, dataDir: string, secretKey: Buffer, log: Log): Promise<string> {
  const file = path.join(dataDir, 'dev-merchant.json');
  const saved = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as { merchant_id: string; test_key: string })
    .catch(() => undefined);
  const stored = saved && (await findActiveApiKeyByHash(db, hashApiKey(saved.test_key)));
  if (saved && stored) {
    // A key made before keys were sealed: seal it now, so its order callbacks can be signed.
    if (!stored.sealed_key) await setSealedKey(db, stored.id, sealApiKey(saved.test_key, secretKey, stored.id));
    return saved.test_key;
  }
  const created = await createMerchant(db, 'Development merchant', secretKey);
  await writeFile(file, `${JSON.stringify({ merchant_id: created.merchant_id, test_key: created.test_key }, null, 2)}\n`, { mode: 0o600 });
  log(`made the development merchant ${created.merchant_id}; its test key is saved in ${file}`);
  return created.test_key;
}
