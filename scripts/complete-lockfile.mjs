#!/usr/bin/env node
/**
 * The npm registry this project is built against may lack some platform-specific optional
 * packages (macOS and Windows builds of @swc/core, anvil, …). npm then leaves them out of
 * package-lock.json, and `npm ci` rejects the lockfile as out of sync. This adds a stub entry
 * (version, optional, os/cpu when the name tells them) for each such package, so `npm ci`
 * accepts the lockfile and skips them on platforms they are not for. It runs as the project's
 * postinstall, so every `npm install` leaves a lockfile that `npm ci` takes. Idempotent.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const osNames = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'sunos', 'aix', 'netbsd'];
const cpuNames = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];
const cpuAliases = { amd64: 'x64', aarch64: 'arm64', x86_64: 'x64', win32_x64: 'x64' };

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) continue; // only exact pins can be stubbed safely
    const parts = name.split(/[/@_-]/);
    const os = osNames.find((candidate) => parts.includes(candidate)) ?? (parts.includes('windows') ? 'win32' : undefined);
    const cpu = parts.map((part) => cpuAliases[part] ?? part).find((part) => cpuNames.includes(part));
    packages[`node_modules/${name}`] = {
      version: range,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
    };
    added++;
  }
}
if (added > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`complete-lockfile: stubbed ${added} optional package(s) the registry does not serve`);
}
