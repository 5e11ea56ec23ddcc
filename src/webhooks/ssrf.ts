/**
 * Server-side request forgery defence for webhooks: a URL's hostname is resolved once, every
 * address must be public (not loopback, private, link-local — 169.254.169.254 included — shared,
 * multicast or reserved, in IPv4 or IPv6, IPv4-mapped forms too; loopback only for test mode where
 * the operator allows it, INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK=true as `npm run dev` sets), and the
 * connection is then pinned to the vetted address so DNS cannot change the answer between check
 * and use.
 */
import { Resolver } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * How names are looked up: through c-ares (`dns.Resolver`), not the system's getaddrinfo. A
 * getaddrinfo call cannot be given a deadline and holds one of libuv's four threads until the
 * nameserver answers, so a merchant whose hostname's nameserver never answers could stall every
 * file, crypto and DNS operation of the process; a Resolver query holds nothing but a socket and
 * gives up after `timeoutMs`. Names are resolved from DNS only: `localhost` (and `*.localhost`,
 * RFC 6761) is loopback without asking anyone; other /etc/hosts entries are not read.
 */
export interface DnsSettings {
  /** Nameservers (`1.1.1.1`, `[::1]:5353`); the system's (/etc/resolv.conf) when empty. */
  servers: string[];
  /** A lookup that has no answer by then fails: the URL "does not resolve (ETIMEOUT)". */
  timeoutMs: number;
}

export const DEFAULT_DNS_TIMEOUT_MS = 5_000;

let dns: DnsSettings = { servers: [], timeoutMs: DEFAULT_DNS_TIMEOUT_MS };

/** Sets the nameservers and timeout of every later lookup (INFLOW_DNS_SERVERS, INFLOW_DNS_TIMEOUT_MS; tests). */
export function configureDns(settings: Partial<DnsSettings>): void {
  dns = { ...dns, ...settings };
}

/** The A and AAAA answers for `hostname`, or an error with the resolver's code (ENOTFOUND, ETIMEOUT…). */
async function lookupAll(hostname: string): Promise<Array<{ address: string; family: number }>> {
  if (/^localhost\.?$|\.localhost\.?$/i.test(hostname)) {
    return [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
  }
  // One resolver per lookup, so the deadline can cancel this lookup's queries and no other's.
  const resolver = new Resolver({ timeout: dns.timeoutMs, tries: 1 });
  if (dns.servers.length > 0) resolver.setServers(dns.servers);
  const deadline = setTimeout(() => resolver.cancel(), dns.timeoutMs);
  try {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const answers = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (answers.length > 0) return answers;
    // A name with neither record type: the first failure says why (a cancel by the deadline is a timeout).
    const failure = [v4, v6].find((result) => result.status === 'rejected')?.reason as { code?: string } | undefined;
    throw Object.assign(new Error('no answer'), { code: failure?.code === 'ECANCELLED' ? 'ETIMEOUT' : (failure?.code ?? 'ENODATA') });
  } finally {
    clearTimeout(deadline);
  }
}

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // ::/96 holds the deprecated IPv4-compatible forms (::127.0.0.1 is ::7f00:1), ::ffff:0:0:0/96 the
  // IPv4-translated ones (RFC 2765). (IPv4-mapped ::ffff:0:0/96 is checked as IPv4 in
  // isPublicAddress: in a BlockList that subnet would match every IPv4 address.)
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address (v4 or v6) is on the public internet. */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return !blocked.check(address, 'ipv4');
  if (version !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped) {
    const value = (parseInt(hexMapped[1]!, 16) << 16) | parseInt(hexMapped[2]!, 16);
    return isPublicAddress([24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.'));
  }
  return !blocked.check(address, 'ipv6');
}

export class UnsafeDestinationError extends Error {
  override readonly name = 'UnsafeDestinationError';
}

export function isLoopbackAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return address.startsWith('127.');
  return address === '::1' || /^::ffff:127\./i.test(address);
}

/**
 * Resolves `hostname` once and returns an address to pin the connection to, if every address it
 * has is public (or loopback, when `allowLoopback`: test mode's `http://localhost` where
 * INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK allows it). A name that
 * does not resolve is an UnsafeDestinationError too: there is nothing safe to connect to.
 */
export async function resolvePublicAddress(hostname: string, options: { allowLoopback?: boolean } = {}): Promise<{ address: string; family: 4 | 6 }> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookupAll(bare);
  } catch (error) {
    throw new UnsafeDestinationError(`${hostname} does not resolve (${(error as { code?: string }).code ?? 'lookup failed'})`);
  }
  if (answers.length === 0) throw new UnsafeDestinationError(`${hostname} does not resolve`);
  const allowed = (address: string) => isPublicAddress(address) || (options.allowLoopback === true && isLoopbackAddress(address));
  const unsafe = answers.find((answer) => !allowed(answer.address));
  if (unsafe) throw new UnsafeDestinationError(`${hostname} resolves to ${unsafe.address}, which is not a public address`);
  return { address: answers[0]!.address, family: answers[0]!.family as 4 | 6 };
}
