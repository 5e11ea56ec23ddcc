/** Customers and their permanent deposit addresses. */
import type { AddressDeriver } from './chains/derivation';
import type { Executor, Tenant } from './db/database';
import { addressesOfCustomers, insertCustomer, insertCustomerAddresses, nextAddressIndex } from './db/repositories/customers.repository';
import { insertEvent } from './db/repositories/events.repository';
import type { Customer } from './db/tables/customers.table';
import { newId } from './domain/ids';
import { currenciesOf, enabledNetworks, families, networks, type Family, type Network } from './domain/networks';

export interface CustomerObject {
  id: string;
  object: 'customer';
  livemode: boolean;
  email: string | null;
  name: string | null;
  external_id: string | null;
  metadata: Record<string, string>;
  addresses: Array<{ network: Network; address: string; currencies: string[] }>;
  created_at: string;
}

export interface NewCustomerInput {
  email?: string | undefined;
  name?: string | undefined;
  external_id?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/**
 * Creates a customer with an address in every family (so on every network), and the
 * `customer.created` event, in the caller's transaction.
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
  return { customer: object, eventId: event.id };
}

/** The API representation of customers, with their addresses on every enabled network. */
export async function presentCustomers(db: Executor, tenant: Tenant, customers: Customer[]): Promise<CustomerObject[]> {
  const addresses = await addressesOfCustomers(
    db,
    tenant,
    customers.map((customer) => customer.id),
  );
  return customers.map((customer) => customerObject(customer, addresses.get(customer.id)!));
}

function customerObject(customer: Customer, addresses: Record<Family, string>): CustomerObject {
  return {
    id: customer.id,
    object: 'customer',
    livemode: customer.livemode,
    email: customer.email,
    name: customer.name,
    external_id: customer.external_id,
    metadata: customer.metadata,
    addresses: enabledNetworks().map((network) => ({
      network,
      address: addresses[networks[network].family],
      currencies: currenciesOf(network),
    })),
    created_at: customer.created_at.toISOString(),
  };
}
