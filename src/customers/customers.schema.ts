import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { Id, listOf, Metadata, text, Timestamp } from '../api/schema';
import { networkNames } from '../domain/networks';

export const CreateCustomerBody = z.strictObject({
  email: z.email().max(512).optional(),
  name: text().trim().min(1).max(256).optional(),
  external_id: text().trim().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});

export const ListCustomersQuery = z.strictObject({ ...paginationParams });

export const CustomerObject = z
  .object({
    id: Id,
    object: z.literal('customer'),
    livemode: z.boolean(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    external_id: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    addresses: z
      .array(z.object({ network: z.enum(networkNames), address: z.string(), currencies: z.array(z.string()) }))
      .meta({ description: "The customer's permanent deposit address on every network this server enables." }),
    created_at: Timestamp,
  })
  .meta({ id: 'Customer' });
export type CustomerObject = z.infer<typeof CustomerObject>;

const tag = 'Customers';

export const customerOperations = {
  create: defineOperation({
    operationId: 'createCustomer',
    method: 'post',
    path: '/customers',
    tag,
    resource: 'customers',
    summary: 'Create a customer',
    description: 'Creates a customer with a permanent deposit address on every enabled network. Money sent to them is credited to this customer.',
    body: CreateCustomerBody,
    response: CustomerObject,
    idempotent: true,
  }),
  list: defineOperation({
    operationId: 'listCustomers',
    method: 'get',
    path: '/customers',
    tag,
    resource: 'customers',
    summary: 'List customers',
    query: ListCustomersQuery,
    response: listOf(CustomerObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveCustomer',
    method: 'get',
    path: '/customers/:id',
    tag,
    resource: 'customers',
    summary: 'Retrieve a customer',
    response: CustomerObject,
  }),
};
