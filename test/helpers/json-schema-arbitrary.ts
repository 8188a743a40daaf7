/**
 * Values for fuzzing, from JSON Schema (the shapes the OpenAPI document uses: object with
 * properties/required/additionalProperties, string with pattern/format/minLength/maxLength,
 * number/integer with bounds, enum/const, anyOf/oneOf, type lists, arrays, `$ref`), and the hostile
 * values a client may send instead: wrong types, boundary numbers, 40-digit decimals, exponent
 * forms, NUL and RTL characters, 100 kB strings, arrays where objects go.
 */
import fc from 'fast-check';

/** A JSON Schema, as loosely as the document writes it. */
export type Schema = { [keyword: string]: unknown };

/**
 * A JSON number sent exactly as written (`1e5`, `1E-3`, 40 digits, `-0`): `JSON.stringify` of a
 * double cannot write these. `jsonText` writes it verbatim.
 */
export class RawNumber {
  constructor(readonly literal: string) {}
}

/** How `validArbitrary` reads a schema. */
export interface ArbitraryContext {
  /** the schema a `$ref` (e.g. `#/components/schemas/Order`) names */
  resolve(ref: string): Schema;
  /**
   * A domain-aware arbitrary for a property or parameter of this name (a symbol the source lists,
   * the caller's own wallet id, an amount within the balance), or undefined to use the schema.
   */
  hint?(name: string | undefined, schema: Schema): fc.Arbitrary<unknown> | undefined;
}

const NUMBER_MAX = 1e12;

function integerArbitrary(schema: Schema): fc.Arbitrary<number> {
  let min = typeof schema.minimum === 'number' ? schema.minimum : -NUMBER_MAX;
  let max = typeof schema.maximum === 'number' ? schema.maximum : NUMBER_MAX;
  if (typeof schema.exclusiveMinimum === 'number') min = Math.floor(schema.exclusiveMinimum) + 1;
  if (typeof schema.exclusiveMaximum === 'number') max = Math.ceil(schema.exclusiveMaximum) - 1;
  const low = Math.max(min, -1000);
  const high = Math.min(max, 1000);
  const near = low <= high ? [fc.integer({ min: low, max: high })] : [];
  return fc.oneof(...near, fc.constantFrom(min, max));
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const exclusiveMin = typeof schema.exclusiveMinimum === 'number';
  const exclusiveMax = typeof schema.exclusiveMaximum === 'number';
  const min = (exclusiveMin ? schema.exclusiveMinimum : schema.minimum) as number | undefined;
  const max = (exclusiveMax ? schema.exclusiveMaximum : schema.maximum) as number | undefined;
  const double = fc.double({
    min: min ?? -NUMBER_MAX,
    max: max ?? NUMBER_MAX,
    minExcluded: exclusiveMin,
    maxExcluded: exclusiveMax,
    noNaN: true,
    noDefaultInfinity: true,
  });
  const inRange = (n: number) =>
    (min === undefined || (exclusiveMin ? n > min : n >= min)) &&
    (max === undefined || (exclusiveMax ? n < max : n <= max));
  const nice = fc.integer({ min: -1000, max: 1000 }).filter(inRange);
  return fc.oneof(double, nice);
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
  const fits = (text: string) =>
    text.length >= minLength &&
    (maxLength === undefined || text.length <= maxLength) &&
    (pattern === undefined || pattern.test(text));
  switch (schema.format) {
    case 'uuid':
      return fc.uuid().filter(fits);
    case 'email':
      return fc
        .tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.stringMatching(/^[a-z]{1,10}$/))
        .map(([local, domain]) => `${local}@${domain}.example`)
        .filter(fits);
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    default:
      break;
  }
  if (pattern) return fc.stringMatching(pattern).filter(fits);
  return fc.string({ minLength, maxLength: Math.min(maxLength ?? minLength + 24, minLength + 24) });
}

function objectArbitrary(schema: Schema, context: ArbitraryContext, depth: number) {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties))
    model[name] = validArbitrary(property, context, name, depth + 1);
  return fc.record(model, { requiredKeys: [...required].filter((name) => name in model) });
}

/**
 * Values that `schema` accepts (the hints' values aside, which are meant to be mostly valid):
 * what gets a request past validation to the services.
 */
export function validArbitrary(
  schema: Schema,
  context: ArbitraryContext,
  name?: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string')
    return validArbitrary(context.resolve(schema.$ref), context, name, depth);
  const hinted = context.hint?.(name, schema);
  if (hinted) return hinted;
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches))
    return fc.oneof(...branches.map((branch) => validArbitrary(branch, context, name, depth + 1)));
  if (Array.isArray(schema.type))
    return fc.oneof(
      ...(schema.type as string[]).map((type) =>
        validArbitrary({ ...schema, type }, context, name, depth + 1),
      ),
    );
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return numberArbitrary(schema);
    case 'string':
      return stringArbitrary(schema);
    case 'array': {
      const items = (schema.items ?? {}) as Schema;
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 4, minLength + 4);
      return fc.array(validArbitrary(items, context, name, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(schema, context, depth);
    default:
      if (schema.properties) return objectArbitrary(schema, context, depth);
      return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

/** 100 kB: over the body limit (64 kB), and over any field's limit. */
export const HUGE_STRING = 'x'.repeat(100 * 1024);
/** Under the body limit, over every field's own limit. */
export const BIG_STRING = 'y'.repeat(60 * 1024);

/** Decimals written the ways a client gets them wrong (SPEC §3: decimal strings, ≤ 8 places). */
export const HOSTILE_DECIMALS = [
  '0',
  '-0',
  '-1',
  '00',
  '0.000000001',
  '0.00000001',
  '1e5',
  '1E-3',
  '1e+2',
  '-1e5',
  '1e400',
  '1'.repeat(40),
  `0.${'1'.repeat(40)}`,
  `${'9'.repeat(20)}.${'9'.repeat(20)}`,
  '12345678901234567890123456789012345678.9',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '0b1',
  ' 1',
  '1 ',
  '1,5',
  '+1',
  '.5',
  '5.',
  '1..2',
  '١٢٣',
  '１２３',
  '1\u0000',
  '\u202e1',
];

/** JSON number literals that `JSON.stringify` cannot write. */
export const RAW_NUMBERS = [
  '1e5',
  '1E-3',
  '1e+2',
  '-0',
  '1e400',
  '-1e400',
  '1'.repeat(40),
  `0.${'0'.repeat(39)}1`,
  '0.10000000000000001',
  '123456789012345678901234567890.123456789',
  '9007199254740993',
  '5e-324',
].map((literal) => new RawNumber(literal));

/** Strings that break naive handling: control, bidi and astral characters, lone surrogates, markup. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'BTC\u0000',
  '\u202eTDSU',
  'BTC\u202eUSDT',
  '\u200b',
  '\ufeffBTC',
  'ÄÖÜ',
  '𝔹𝕋ℂ',
  '😀',
  '\ud800',
  '\udfff',
  '\r\n',
  '\t',
  '<script>alert(1)</script>',
  "'; drop table users; --",
  '../../etc/passwd',
  '%00',
  '%',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'null',
  'true',
  '[]',
  '{}',
];

/** Any wrong value for a field: another JSON type, a boundary number, a hostile string. */
export function hostileArbitrary(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_DECIMALS) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_NUMBERS) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        null,
        true,
        false,
        0,
        -1,
        0.1,
        1.5,
        Number.MAX_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER + 2,
        Number.MIN_SAFE_INTEGER,
        1e308,
        -1e308,
        2 ** 31,
        -(2 ** 31) - 1,
        2 ** 53,
        1e-7,
        5e-324,
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom([], {}, [1], ['a'], [{}], { a: 1 }, [null], { '': '' }) },
    { weight: 1, arbitrary: fc.constantFrom(HUGE_STRING, BIG_STRING) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

/** Keys a client should not be able to use to surprise the server. */
const EXTRA_KEYS = [
  'extra',
  'id',
  'user_id',
  'role',
  'balance',
  'constructor',
  'toString',
  '',
  'ü',
  'a\u0000b',
];

/**
 * One wrong body made from a valid one: a required field dropped, an unknown field added, a field
 * given a wrong value, or the whole body replaced (an array where the object goes, a string, null).
 */
export function invalidArbitrary(valid: fc.Arbitrary<unknown>, schema: Schema): fc.Arbitrary<unknown> {
  const properties = Object.keys((schema.properties ?? {}) as Record<string, Schema>);
  const required = (schema.required ?? []) as string[];
  return fc
    .tuple(
      valid,
      fc.constantFrom('drop', 'extra', 'replace', 'replace', 'replace', 'wrap', 'whole'),
      fc.nat(),
      hostileArbitrary(),
      fc.constantFrom(...EXTRA_KEYS),
    )
    .map(([value, how, index, hostile, extraKey]) => {
      const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
      const object = isObject ? { ...(value as Record<string, unknown>) } : {};
      switch (how) {
        case 'drop': {
          const names = required.length > 0 ? required : Object.keys(object);
          if (names.length === 0) return hostile;
          delete object[names[index % names.length]!];
          return object;
        }
        case 'extra':
          return { ...object, [extraKey]: hostile };
        case 'replace': {
          if (properties.length === 0) return hostile;
          return { ...object, [properties[index % properties.length]!]: hostile };
        }
        case 'wrap':
          return [value];
        default:
          return hostile;
      }
    });
}

/**
 * `value` as JSON text, with every `RawNumber` written verbatim (undefined for `undefined`, as
 * `JSON.stringify` gives).
 */
export function jsonText(value: unknown): string | undefined {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) =>
    item instanceof RawNumber ? `@@raw:${raws.push(item.literal) - 1}@@` : item,
  ) as string | undefined;
  return text?.replace(/"@@raw:(\d+)@@"/g, (_match, index: string) => raws[Number(index)]!);
}
