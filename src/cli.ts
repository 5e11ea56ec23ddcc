/**
 * `npm run cli -- <command>`: the operator's command line.
 *
 *   merchant create --name NAME [--json]   makes a merchant with a test and a live key
 */
import { parseArgs } from 'node:util';
import { loadConfig } from './config';
import { createMerchant } from './merchants';
import { connectDatabase, runMain, StartupError } from './startup';

const usage = `usage: npm run cli -- merchant create --name NAME [--json]`;

runMain(async () => {
  const [group, action, ...rest] = process.argv.slice(2);
  if (group === 'merchant' && action === 'create') return merchantCreate(rest);
  throw new StartupError(usage);
});

async function merchantCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const name = values.name?.trim();
  if (!name) throw new StartupError(`merchant create needs --name\n${usage}`);
  const config = loadConfig(process.env, ['DATABASE_URL']);
  const db = await connectDatabase(config, { max: 1 });
  try {
    const created = await createMerchant(db, name);
    if (values.json) {
      console.log(JSON.stringify(created));
    } else {
      console.log(`merchant ${created.merchant_id} (${name})`);
      console.log(`test key: ${created.test_key}`);
      console.log(`live key: ${created.live_key}`);
      console.log('Store the keys now: they are shown once and kept only as hashes.');
    }
  } finally {
    await db.destroy();
  }
}
