/**
 * Values a JSON Schema (2020-12, as the OpenAPI document writes it) allows, as fast-check
 * arbitraries: what an independent generator driven only by docs/openapi.json would send. Every
 * value is checked against the schema with ajv before it is used, so a gap in this generator makes
 * it generate less, never something the document refuses.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';

type Schema = Record<string, any>;

interface Shape {
  required: string[];
  forbidden: string[];
  properties: Record<string, Schema>;
}

export interface SchemaArbitraries {
  /** Values `schema` (which may hold `$ref`s into the document) allows. */
  of(schema: Schema): fc.Arbitrary<unknown>;
  /** Whether the document's schema allows the value. */
  allows(schema: Schema, value: unknown): boolean;
}

/**
 * `known` gives, per `pattern`, values to prefer over random ones (ids of objects that exist), so
 * a generated request reaches past the lookup of its ids as often as it stops at a 404.
 */
export function schemaArbitraries(document: Schema, known: (pattern: string) => string[]): SchemaArbitraries {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  const validators = new Map<string, ValidateFunction>();
  const validatorOf = (schema: Schema) => {
    const key = JSON.stringify(schema);
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(rebase(schema) as Schema);
      validators.set(key, validate);
    }
    return validate;
  };

  const resolve = (schema: Schema): Schema => {
    if (typeof schema.$ref !== 'string') return schema;
    let target: any = document;
    for (const part of schema.$ref.replace(/^#\//, '').split('/')) target = target[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    return resolve(target as Schema);
  };

  const string = (schema: Schema): fc.Arbitrary<string> => {
    const minLength = schema.minLength ?? 0;
    const maxLength = Math.min(schema.maxLength ?? 40, minLength + 40);
    // A URL field as a valid URL: random text almost never is, and the body's filter would draw
    // again and again (seconds per body with a few optional URL fields, the event loop blocked).
    if (schema.format === 'uri') {
      // (Its pattern, no NUL and no lone surrogate, holds for every such URL.)
      return fc
        .webUrl({ validSchemes: ['http', 'https'], withQueryParameters: true, withFragments: true })
        .filter((url) => url.length >= minLength && url.length <= (schema.maxLength ?? Infinity));
    }
    if (typeof schema.pattern === 'string') {
      const random = fc
        .stringMatching(new RegExp(schema.pattern, 'u'))
        .filter((value) => value.length >= minLength && value.length <= (schema.maxLength ?? Infinity));
      const preferred = known(schema.pattern);
      return preferred.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...preferred), weight: 3 }, { arbitrary: random, weight: 1 }) : random;
    }
    if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    // Any Unicode text: JSON carries every code point, and the document says which it refuses.
    return fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', ' ', '\t'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength, maxLength });
  };

  /**
   * What an object schema asks besides its properties' own schemas, with one branch of every
   * `oneOf` chosen (the body-level rules: which fields go together, which network has which
   * currency): the fields it requires, those it forbids, and narrower schemas for some fields.
   */
  const shapeOf = (schema: Schema): fc.Arbitrary<Shape> => {
    const not = schema.not as Schema | undefined;
    const own: Shape = {
      required: (schema.required as string[] | undefined) ?? [],
      forbidden: [...((not?.required as string[] | undefined) ?? []), ...((not?.anyOf as Schema[] | undefined) ?? []).flatMap((inner) => inner.required ?? [])],
      properties: (schema.properties as Record<string, Schema> | undefined) ?? {},
    };
    const parts = [
      fc.constant(own),
      ...((schema.allOf as Schema[] | undefined) ?? []).map(shapeOf),
      ...(Array.isArray(schema.oneOf) ? [fc.constantFrom(...(schema.oneOf as Schema[])).chain(shapeOf)] : []),
    ];
    return fc.tuple(...parts).map((shapes) =>
      shapes.reduce((merged, shape) => ({
        required: [...merged.required, ...shape.required],
        forbidden: [...merged.forbidden, ...shape.forbidden],
        properties: Object.fromEntries(
          [...new Set([...Object.keys(merged.properties), ...Object.keys(shape.properties)])].map((name) => [
            name,
            { ...merged.properties[name], ...shape.properties[name] },
          ]),
        ),
      })),
    );
  };

  const object = (schema: Schema): fc.Arbitrary<Record<string, unknown>> => {
    const extra =
      schema.additionalProperties && typeof schema.additionalProperties === 'object'
        ? fc.dictionary(
            schema.propertyNames ? (of(schema.propertyNames) as fc.Arbitrary<string>) : fc.string({ maxLength: 10 }),
            of(schema.additionalProperties),
            { maxKeys: 5 },
          )
        : fc.constant({});
    return shapeOf(schema).chain((shape) => {
      const declared = Object.keys((schema.properties as Record<string, Schema> | undefined) ?? {});
      const fields = Object.fromEntries(declared.filter((name) => !shape.forbidden.includes(name)).map((name) => [name, of(shape.properties[name]!)]));
      const requiredKeys = Object.keys(fields).filter((name) => shape.required.includes(name));
      return fc.tuple(fc.record(fields, { requiredKeys }), extra).map(([known, more]) => ({ ...more, ...known }));
    });
  };

  const of = (given: Schema): fc.Arbitrary<unknown> => {
    const schema = resolve(given);
    if ('const' in schema) return fc.constant(schema.const);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    // A oneOf beside `type` is a body-level rule the object's shape handles.
    const alternatives = (schema.anyOf ?? (schema.type ? undefined : schema.oneOf)) as Schema[] | undefined;
    if (alternatives) return fc.oneof(...alternatives.map(of));
    const type = Array.isArray(schema.type) ? fc.constantFrom(...(schema.type as string[])) : fc.constant(schema.type as string | undefined);
    return type.chain((name): fc.Arbitrary<unknown> => {
      switch (name) {
        case 'null':
          return fc.constant(null);
        case 'boolean':
          return fc.boolean();
        case 'integer':
          return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
        case 'number':
          return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
        case 'string':
          return string(schema);
        case 'array':
          return fc.array(schema.items ? of(schema.items) : fc.jsonValue(), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 8) });
        case 'object':
          return object(schema);
        default:
          return fc.jsonValue();
      }
    });
  };

  const allows = (schema: Schema, value: unknown) => validatorOf(schema)(value);
  return { of: (schema) => of(schema).filter((value) => allows(schema, value)), allows };
}

/** A schema from the document, compiled on its own: its references point into the document. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' ? `openapi.json${inner}` : rebase(inner)]),
  );
}
