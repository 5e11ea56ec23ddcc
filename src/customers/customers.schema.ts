import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { idOf, listOf, Metadata, refusingReadOnly, text, Timestamp, trimmedText } from '../api/schema';
import { networkNames } from '../domain/networks';

export const CreateCustomerBody = z.strictObject({
  email: z.email().max(512).optional(),
  name: trimmedText().min(1).max(256).optional(),
  external_id: trimmedText().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});

/** The customer's fields a request may change; `null` clears one. */
export const UpdateCustomerFields = z.strictObject({
  email: z.email().max(512).nullable().optional(),
  name: trimmedText().min(1).max(256).nullable().optional(),
  external_id: trimmedText().min(1).max(256).nullable().optional(),
  metadata: Metadata.nullable().optional().meta({
    description:
      'Merged into the customer\'s metadata: a key set to `""` is removed, other keys are set; `null` removes every key. At most 50 keys after the merge.',
  }),
});

/** The customer object's fields that inflow sets: naming one in an update is a 400 `parameter_read_only`. */
export const customerReadOnlyFields = ['id', 'object', 'livemode', 'addresses', 'archived', 'archived_at', 'created_at'] as const;

export const UpdateCustomerBody = refusingReadOnly(customerReadOnlyFields, UpdateCustomerFields);

export const ListCustomersQuery = z.strictObject({
  ...paginationParams('customer'),
  email: text().min(1).max(512).meta({ description: 'Only customers with exactly this email (case-sensitive).' }).optional(),
  external_id: text().min(1).max(256).meta({ description: 'Only customers with exactly this external_id.' }).optional(),
  archived: z
    .enum(['true', 'false'])
    .meta({ description: '`true`: only archived customers; `false` (the default): only those not archived.' })
    .optional()
    .transform((archived) => archived === 'true'),
  address: z
    .string()
    .regex(/^(0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33})$/, 'must be an EVM address (0x and 40 hex digits) or a Tron address (base58, T and 33 more)')
    .meta({ description: 'The customer whose deposit address this is (EVM in any letter case, or Tron base58), archived or not.' })
    .optional(),
  search: text().min(1).max(256).meta({ description: 'Customers whose email or name starts with this, ignoring letter case.' }).optional(),
});

export const CustomerObject = z
  .object({
    id: idOf('customer'),
    object: z.literal('customer'),
    livemode: z.boolean(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    external_id: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    addresses: z
      .array(z.object({ network: z.enum(networkNames), address: z.string(), currencies: z.array(z.string()) }))
      .meta({ description: "The customer's permanent deposit address on every network this server enables." }),
    archived: z
      .boolean()
      .meta({ description: 'Archived by `DELETE /customers/{id}`: left out of lists, no longer updatable; money sent to its addresses is still credited.' }),
    archived_at: Timestamp.nullable(),
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
    description: 'Customers not archived, newest first, or only archived ones with `archived=true`; `email` and `external_id` filter by exact match.',
    query: ListCustomersQuery,
    response: listOf(CustomerObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveCustomer',
    method: 'get',
    path: '/customers/:id',
    pathId: 'customer',
    tag,
    resource: 'customers',
    summary: 'Retrieve a customer',
    description: 'Finds archived customers too (`archived: true`).',
    response: CustomerObject,
  }),
  update: defineOperation({
    operationId: 'updateCustomer',
    method: 'patch',
    path: '/customers/:id',
    pathId: 'customer',
    tag,
    resource: 'customers',
    summary: 'Update a customer',
    description:
      'Sets `email`, `name`, `external_id` (`null` clears one) and merges `metadata`. Fields inflow sets (`id`, `addresses`, `created_at`…) are a 400 `parameter_read_only`, an archived customer a 400 `customer_archived`. Emits `customer.updated` when something changed.',
    body: UpdateCustomerBody,
    response: CustomerObject,
  }),
  archive: defineOperation({
    operationId: 'archiveCustomer',
    method: 'delete',
    path: '/customers/:id',
    pathId: 'customer',
    tag,
    resource: 'customers',
    summary: 'Archive a customer',
    description:
      'Archives the customer and answers it with `archived: true`. Nothing is deleted: its addresses stay watched and money sent to them is still credited; `GET /customers/{id}` still finds it, lists leave it out unless `archived=true`. Archiving an archived customer changes nothing. Emits `customer.archived` the first time.',
    response: CustomerObject,
  }),
};
