/** Customers and their permanent deposit addresses. */
import type { AddressDeriver } from '../chains/derivation';
import type { Executor, Tenant } from '../db/database';
import { insertCustomer, insertCustomerAddresses, nextAddressIndex } from '../db/repositories/customers.repository';
import { insertEvent } from '../db/repositories/events.repository';
import { newId } from '../domain/ids';
import { families } from '../domain/networks';
import { queueEventDispatch } from '../outbox/queue';
import { customerObject, type CustomerObject } from './customer.presenter';

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
  const addressIndex = await nextAddressIndex(transaction);
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
  const event = await insertEvent(transaction, {
    id: newId('event'),
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    type: 'customer.created',
    data: { ...object },
  });
  await queueEventDispatch(transaction, event);
  return { customer: object, eventId: event.id };
}
