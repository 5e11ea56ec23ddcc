import type { TestDependencies } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const deps = (globalThis as { inflowTestDependencies?: TestDependencies }).inflowTestDependencies;
  if (!deps) return;
  await Promise.all([deps.temporal.stop(), deps.postgres.stop()]);
}
