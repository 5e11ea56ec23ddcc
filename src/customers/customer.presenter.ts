/** A customer as the API and its `customer.*` events show it, with an address on every enabled network. */
import type { Executor, Tenant } from '../db/database';
import { addressesOfCustomers } from './customers.repository';
import type { Customer } from './customers.table';
import { currenciesOf, enabledNetworks, networks, type Family } from '../domain/networks';
import type { CustomerObject } from './customers.schema';

export function customerObject(customer: Customer, addresses: Record<Family, string>): CustomerObject {
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
    archived: customer.archived_at !== null,
    archived_at: customer.archived_at?.toISOString() ?? null,
    created_at: customer.created_at.toISOString(),
  };
}

/** Customers with their addresses, read in one query. */
export async function presentCustomers(db: Executor, tenant: Tenant, customers: Customer[]): Promise<CustomerObject[]> {
  const addresses = await addressesOfCustomers(
    db,
    tenant,
    customers.map((customer) => customer.id),
  );
  return customers.map((customer) => customerObject(customer, addresses.get(customer.id)!));
}
