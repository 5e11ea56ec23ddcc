/**
 * What an API key may do. A key's permissions are `full`, `read_only`, or a map from resource to
 * `read` or `write` (write includes read; a resource left out is refused). Every route names one
 * resource; GET needs read, anything else write.
 */
export const resources = [
  'customers',
  'deposits',
  'balance',
  'orders',
  'payouts',
  /** `write`: may approve a payout another key made that needs approval (docs/payouts.md#approvals). */
  'payout_approvals',
  'events',
  'webhook_endpoints',
  'api_keys',
  'requests',
  'account',
] as const;
export type Resource = (typeof resources)[number];

export const accessLevels = ['read', 'write'] as const;
export type Access = (typeof accessLevels)[number];

export type Permissions = 'full' | 'read_only' | Partial<Record<Resource, Access>>;

/** Every resource's access level, `none` where the key has none. */
export type Grants = Record<Resource, Access | 'none'>;

const rank = { none: 0, read: 1, write: 2 } as const;

export function grantsOf(permissions: Permissions): Grants {
  const level = (resource: Resource): Access | 'none' => {
    if (permissions === 'full') return 'write';
    if (permissions === 'read_only') return 'read';
    return permissions[resource] ?? 'none';
  };
  return Object.fromEntries(resources.map((resource) => [resource, level(resource)])) as Grants;
}

export function allows(grants: Grants, resource: Resource, access: Access): boolean {
  return rank[grants[resource]] >= rank[access];
}

/** The resources where `other` may do more than `mine`: a key may only make or manage keys with none. */
export function exceeding(mine: Grants, other: Grants): Resource[] {
  return resources.filter((resource) => rank[other[resource]] > rank[mine[resource]]);
}

/** The stored form, simplest first: a map that grants write everywhere is `full`, read everywhere `read_only`. */
export function normalizePermissions(permissions: Permissions): Permissions {
  const grants = Object.values(grantsOf(permissions));
  if (grants.every((level) => level === 'write')) return 'full';
  if (grants.every((level) => level === 'read')) return 'read_only';
  if (typeof permissions === 'string') return permissions;
  return Object.fromEntries(resources.filter((resource) => permissions[resource]).map((resource) => [resource, permissions[resource]]));
}
