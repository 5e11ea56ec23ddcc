/** Customers and their permanent deposit addresses. */
import type { AddressDeriver } from '../chains/derivation';
import type { Executor, Tenant } from '../db/database';
import {
  addressesOfCustomers,
  insertCustomer,
  insertCustomerAddresses,
  lockCustomerById,
  nextAddressIndex,
  updateCustomer as updateCustomerRow,
} from './customers.repository';
import type { Customer, CustomerUpdate } from './customers.table';
import { InvalidRequestError, ResourceMissingError } from '../domain/errors';
import type { EventType } from '../domain/events';
import { isId, newId } from '../domain/ids';
import { families } from '../domain/networks';
import { customerObject } from './customer.presenter';
import type { CustomerObject } from './customers.schema';
import { emit } from '../events/emitter';

/** Stripe's limit, which the create body enforces on its own and an update enforces after merging. */
const MAX_METADATA_KEYS = 50;

export interface NewCustomerInput {
  email?: string | undefined;
  name?: string | undefined;
  external_id?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/**
 * Creates a customer with an address in every family (so on every network), and the
 * `customer.created` event with its dispatch queued, in the caller's transaction.
 */
export async function createCustomer(
  transaction: Executor,
  tenant: Tenant,
  input: NewCustomerInput,
  deriver: AddressDeriver,
): Promise<{ customer: CustomerObject; eventId: string }> {
  const addressIndex = await nextAddressIndex(transaction, tenant.livemode);
  const addresses = deriver.deriveAll(addressIndex);
  const customer = await insertCustomer(transaction, {
    id: newId('customer'),
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    email: input.email ?? null,
    name: input.name ?? null,
    external_id: input.external_id ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    address_index: addressIndex,
  });
  await insertCustomerAddresses(
    transaction,
    families.map((family) => ({ customer_id: customer.id, family, address: addresses[family], livemode: tenant.livemode, merchant_id: tenant.merchantId })),
  );
  const object = customerObject(customer, addresses);
  const eventId = await emitAbout(transaction, tenant, 'customer.created', object);
  return { customer: object, eventId };
}

export interface CustomerChanges {
  email?: string | null | undefined;
  name?: string | null | undefined;
  external_id?: string | null | undefined;
  /** Merged: a key set to "" is removed; null removes every key. */
  metadata?: Record<string, string> | null | undefined;
}

/**
 * Applies the changes to the customer, locked so that two updates merging metadata at once both
 * land; emits `customer.updated` only when something changed (a no-op writes nothing).
 */
export async function updateCustomer(transaction: Executor, tenant: Tenant, id: string, changes: CustomerChanges): Promise<CustomerObject> {
  const customer = await lockCustomer(transaction, tenant, id);
  if (customer.archived_at) {
    throw new InvalidRequestError(`Customer '${id}' is archived: an archived customer can no longer be updated.`, 'id', 'customer_archived');
  }
  const patch: CustomerUpdate = {};
  for (const field of ['email', 'name', 'external_id'] as const) {
    const value = changes[field];
    if (value !== undefined && value !== customer[field]) patch[field] = value;
  }
  if (changes.metadata !== undefined) {
    const metadata = mergeMetadata(customer.metadata, changes.metadata);
    if (Object.keys(metadata).length > MAX_METADATA_KEYS) {
      throw new InvalidRequestError(
        `metadata may have at most ${MAX_METADATA_KEYS} keys: this update would leave ${Object.keys(metadata).length}. Remove keys by setting them to "".`,
        'metadata',
      );
    }
    if (!sameMetadata(metadata, customer.metadata)) patch.metadata = JSON.stringify(metadata);
  }
  if (Object.keys(patch).length === 0) return present(transaction, tenant, customer);
  const object = await present(transaction, tenant, await updateCustomerRow(transaction, customer.id, patch));
  await emitAbout(transaction, tenant, 'customer.updated', object);
  return object;
}

/**
 * Archives the customer: hidden from lists and closed to updates, while its addresses stay watched
 * and credited. Archiving it again changes nothing and emits nothing (a retried DELETE is safe).
 */
export async function archiveCustomer(transaction: Executor, tenant: Tenant, id: string): Promise<CustomerObject> {
  const customer = await lockCustomer(transaction, tenant, id);
  if (customer.archived_at) return present(transaction, tenant, customer);
  const object = await present(transaction, tenant, await updateCustomerRow(transaction, customer.id, { archived_at: new Date() }));
  await emitAbout(transaction, tenant, 'customer.archived', object);
  return object;
}

/** Another merchant's or mode's customer is as missing as one that never existed. */
async function lockCustomer(transaction: Executor, tenant: Tenant, id: string): Promise<Customer> {
  const customer = isId('customer', id) ? await lockCustomerById(transaction, tenant, id) : undefined;
  if (!customer) throw new ResourceMissingError(`No such customer: '${id}'`, 'id');
  return customer;
}

function mergeMetadata(current: Record<string, string>, changes: Record<string, string> | null): Record<string, string> {
  if (changes === null) return {};
  const merged = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function sameMetadata(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && b[key] === a[key]);
}

async function present(db: Executor, tenant: Tenant, customer: Customer): Promise<CustomerObject> {
  const addresses = await addressesOfCustomers(db, tenant, [customer.id]);
  return customerObject(customer, addresses.get(customer.id)!);
}

/** The event, with its deliveries to the merchant's endpoints queued in the same transaction. */
async function emitAbout(transaction: Executor, tenant: Tenant, type: Extract<EventType, `customer.${string}`>, customer: CustomerObject): Promise<string> {
  const { eventId } = await emit(transaction, type, { merchant_id: tenant.merchantId, livemode: tenant.livemode }, customer);
  return eventId;
}
