/**
 * Schema-driven fuzzing of the app's own OpenAPI document (issue 21): each operation's parameters,
 * body and answers as the document gives them, requests generated from them (valid ones, to reach
 * the services, and hostile ones), and the checks every answer must pass — no 500, a status the
 * document lists for the operation, and a body its schema for that status accepts.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  type ArbitraryContext,
  HOSTILE_STRINGS,
  HUGE_STRING,
  hostileArbitrary,
  invalidArbitrary,
  jsonText,
  RAW_NUMBERS,
  type Schema,
  validArbitrary,
} from './json-schema-arbitrary.js';

/** One parameter of an operation, as the document gives it. */
export interface FuzzParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required: boolean;
  schema: Schema;
}

/** One path × method of the document, with what the fuzzer needs of it. */
export interface FuzzOperation {
  method: string;
  /** the document's path, e.g. `/api/v1/wallets/{wallet_id}` */
  path: string;
  /** `METHOD path` */
  key: string;
  /** true when the document asks for a bearer token */
  secured: boolean;
  parameters: FuzzParameter[];
  /** the JSON body's schema and whether it is required; undefined when the operation takes none */
  body: { required: boolean; schema: Schema } | undefined;
  /** documented status → its content types and the schema of its JSON body, if it has one */
  responses: Map<number, { contentTypes: string[]; json: Schema | undefined }>;
}

interface DocumentOperation {
  security?: unknown[];
  parameters?: { in: FuzzParameter['in']; name: string; required?: boolean; schema?: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

/** The part of the OpenAPI document the fuzzer reads. */
export interface FuzzDocument {
  paths: Record<string, Record<string, DocumentOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of the document. */
export function fuzzOperationsOf(document: FuzzDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const responses: FuzzOperation['responses'] = new Map();
      for (const [status, response] of Object.entries(operation.responses ?? {}))
        responses.set(Number(status), {
          contentTypes: Object.keys(response.content ?? {}),
          json: response.content?.['application/json']?.schema,
        });
      operations.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        secured: (operation.security ?? []).length > 0,
        parameters: (operation.parameters ?? []).map((p) => ({
          in: p.in,
          name: p.name,
          required: p.required === true,
          schema: p.schema ?? {},
        })),
        body: bodySchema
          ? { required: operation.requestBody?.required !== false, schema: bodySchema }
          : undefined,
        responses,
      });
    }
  }
  return operations;
}

/** A value the fuzzer's state supplies when the request is sent: the caller's wallet id, its password… */
export class Known {
  constructor(
    readonly kind: string,
    readonly index: number,
  ) {}
}

/** Which credentials a request carries. */
export type AuthMode =
  | 'bearer'
  | 'none'
  | 'garbage-bearer'
  | 'cookie'
  | 'cookie-same-origin'
  | 'bearer-and-garbage-cookie'
  /** an admin's token (the requests then run as the admin) */
  | 'admin-bearer';

/** What is sent as the body. */
export type FuzzBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; contentType: string }
  | { kind: 'raw'; payload: string; contentType: string | undefined };

/** One generated request, before the state's values (`Known`) are filled in. */
export interface FuzzRequest {
  auth: AuthMode;
  /** path parameter → value (or `{ raw }`: written into the URL as it is, not percent-encoded) */
  pathParams: Record<string, unknown>;
  /** query pairs in order; a name may repeat */
  query: [string, unknown][];
  headers: Record<string, unknown>;
  body: FuzzBody;
}

/** A path segment written as it is (a broken percent-encoding). */
export interface RawSegment {
  raw: string;
}

/** Content types a client sends by mistake (or on purpose). */
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/json; charset=utf-16',
  'application/JSON',
  'application/json, text/plain',
  'json',
  '',
];

/** Bodies that are not JSON, or JSON of a kind that a server trips over. */
const RAW_BODIES = [
  '{',
  '{"a":',
  '[',
  'nul',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '\u0000',
  '\ufeff{}',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `{"a":"${'\\u0000'.repeat(10)}"}`,
  `"${HUGE_STRING}"`,
  '1e5',
  '1'.repeat(40),
];

/** Path values that are not what the route takes: hostile strings, over-long ones, broken encodings. */
function hostilePathValueArbitrary(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s !== '')) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<unknown>(
        'x'.repeat(64),
        'x'.repeat(65),
        'x'.repeat(255),
        'x'.repeat(300),
        'BTCUSDT'.repeat(5),
        'a/b',
        '%2E',
        '1e5',
        '-1',
        '00000000-0000-0000-0000-000000000000',
        { raw: '%zz' },
        { raw: '%E0%A4%A' },
        { raw: '%C0%AF' },
        { raw: '%ED%A0%80' },
        { raw: '%FF' },
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  );
}

/** Query pairs a valid request sends: every required parameter once, optional ones now and then. */
function validQueryArbitrary(parameters: FuzzParameter[], context: ArbitraryContext) {
  return fc
    .tuple(
      ...parameters.map((parameter) => {
        const value = validArbitrary(parameter.schema, context, parameter.name);
        const pair = value.map((v): [string, unknown][] => [[parameter.name, v]]);
        return parameter.required ? pair : fc.oneof(fc.constant<[string, unknown][]>([]), pair);
      }),
    )
    .map((pairs) => pairs.flat());
}

/** Query pairs with something wrong: a hostile value, a repeated or missing parameter, an extra one. */
function hostileQueryArbitrary(parameters: FuzzParameter[], context: ArbitraryContext) {
  const perParameter = parameters.map((parameter) => {
    const value = fc.oneof(
      { weight: 3, arbitrary: validArbitrary(parameter.schema, context, parameter.name) },
      { weight: 3, arbitrary: hostileArbitrary() },
      {
        weight: 1,
        arbitrary: fc.constantFrom({ raw: '%zz' }, { raw: '%ED%A0%80' }, { raw: '%FF' }, { raw: 'a&b=c' }),
      },
    );
    return fc
      .tuple(fc.constantFrom('once', 'twice', 'missing', 'empty'), value, value)
      .map(([how, first, second]): [string, unknown][] => {
        if (how === 'missing') return [];
        if (how === 'empty') return [[parameter.name, '']];
        if (how === 'twice')
          return [
            [parameter.name, first],
            [parameter.name, second],
          ];
        return [[parameter.name, first]];
      });
  });
  const extra = fc.oneof(
    { weight: 2, arbitrary: fc.constant<[string, unknown][]>([]) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('extra', 'limit', 'token', '__proto__', 'a[b]', 'x\u202e'), hostileArbitrary())
        .map(([name, value]): [string, unknown][] => [[name, value]]),
    },
  );
  return fc.tuple(fc.tuple(...perParameter), extra).map(([pairs, more]) => [...pairs.flat(), ...more]);
}

function headerArbitrary(parameters: FuzzParameter[], context: ArbitraryContext, hostile: boolean) {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const parameter of parameters) {
    const valid = validArbitrary(parameter.schema, context, parameter.name);
    model[parameter.name] = hostile
      ? fc.oneof(valid, fc.constantFrom('', ' ', 'x'.repeat(300), 'ÄÖÜ', 'a b', '\u202e', 'x'.repeat(255)))
      : valid;
  }
  return fc.record(model, { requiredKeys: [] });
}

const json = (value: fc.Arbitrary<unknown>, contentType = 'application/json') =>
  value.map((v): FuzzBody => ({ kind: 'json', value: v, contentType }));
const raw = (payload: fc.Arbitrary<string>, contentType: fc.Arbitrary<string | undefined>) =>
  fc.tuple(payload, contentType).map(([p, c]): FuzzBody => ({ kind: 'raw', payload: p, contentType: c }));
/** Point 6: `Content-Type: application/json` and no byte of body. */
const emptyJson = fc.constant<FuzzBody>({ kind: 'raw', payload: '', contentType: 'application/json' });
const noBody = fc.constant<FuzzBody>({ kind: 'none' });
/** Bodies no route takes: not JSON, JSON of a surprising kind, or another content type. */
const foreignBody = fc.oneof(
  raw(fc.constantFrom(...RAW_BODIES), fc.constantFrom('application/json', 'application/json; charset=utf-8')),
  raw(fc.constantFrom('{"a":1}', 'a=1&b=2', '<a/>', ''), fc.constantFrom(...WRONG_CONTENT_TYPES, undefined)),
  json(hostileArbitrary()),
);

/** The body of a valid request: none for an operation that takes none, else one its schema accepts. */
function validBodyArbitrary(valid: fc.Arbitrary<unknown> | undefined): fc.Arbitrary<FuzzBody> {
  if (!valid) return noBody;
  return fc.oneof(
    { weight: 8, arbitrary: json(valid) },
    { weight: 1, arbitrary: json(valid, 'application/json; charset=utf-8') },
  );
}

/** A body with something wrong: a field missing, extra or of the wrong kind, bad JSON, a wrong type. */
function hostileBodyArbitrary(
  operation: FuzzOperation,
  valid: fc.Arbitrary<unknown> | undefined,
): fc.Arbitrary<FuzzBody> {
  if (!operation.body || !valid) {
    // A body where none goes: GET ignores it; DELETE and PUT parse it.
    return fc.oneof(
      { weight: 2, arbitrary: emptyJson },
      { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 2 })) },
      { weight: 2, arbitrary: foreignBody },
    );
  }
  const objectSchema = ((operation.body.schema.anyOf as Schema[] | undefined)?.find(
    (s) => s.type === 'object',
  ) ?? operation.body.schema) as Schema;
  return fc.oneof(
    { weight: 10, arbitrary: json(invalidArbitrary(valid, objectSchema)) },
    { weight: 1, arbitrary: emptyJson },
    { weight: 1, arbitrary: noBody },
    {
      weight: 1,
      arbitrary: raw(
        valid.map((value) => jsonText(value) ?? ''),
        fc.constantFrom(...WRONG_CONTENT_TYPES, undefined),
      ),
    },
    {
      // the valid body as a form (@fastify/formbody parses one on every route): every value a string
      weight: 1,
      arbitrary: raw(
        valid.map((value) =>
          new URLSearchParams(
            Object.entries(value !== null && typeof value === 'object' ? value : {}).map(
              ([k, v]): [string, string] => [k, typeof v === 'string' ? v : (jsonText(v) ?? '')],
            ),
          ).toString(),
        ),
        fc.constant('application/x-www-form-urlencoded'),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.constantFrom(...RAW_NUMBERS)).map(([value, number]): FuzzBody => {
        // every number of a valid body written as a raw literal (1e5, 40 digits…)
        const text = (jsonText(value) ?? '{}').replace(
          /(?<=[:[,])-?\d+(\.\d+)?([eE][+-]?\d+)?/g,
          number.literal,
        );
        return { kind: 'raw', payload: text, contentType: 'application/json' };
      }),
    },
    { weight: 2, arbitrary: foreignBody },
  );
}

/** Which part of a request is wrong (`valid`: none; `all`: every part may be). */
type Corruption = 'valid' | 'path' | 'query' | 'headers' | 'body' | 'all';

/**
 * The arbitrary of every request of one operation: half valid in every part (so that they reach
 * the services), the others wrong in one part (or all), which keeps a failure easy to read.
 * @param refineBody makes a valid body meet what its JSON schema cannot say (one of two fields)
 */
export function requestArbitrary(
  operation: FuzzOperation,
  context: ArbitraryContext,
  auth: fc.Arbitrary<AuthMode>,
  refineBody: (body: unknown) => unknown = (body) => body,
): fc.Arbitrary<FuzzRequest> {
  const inPath = operation.parameters.filter((p) => p.in === 'path');
  const inQuery = operation.parameters.filter((p) => p.in === 'query');
  const inHeaders = operation.parameters.filter((p) => p.in === 'header');
  const validPath: Record<string, fc.Arbitrary<unknown>> = {};
  const hostilePath: Record<string, fc.Arbitrary<unknown>> = {};
  for (const parameter of inPath) {
    validPath[parameter.name] = validArbitrary(parameter.schema, context, parameter.name);
    hostilePath[parameter.name] = fc.oneof(validPath[parameter.name]!, hostilePathValueArbitrary());
  }
  const validBody = operation.body
    ? validArbitrary(operation.body.schema, context, undefined).map(refineBody)
    : undefined;
  const corruptions: { weight: number; arbitrary: fc.Arbitrary<Corruption> }[] = [
    { weight: 10, arbitrary: fc.constant('valid') },
    { weight: inPath.length > 0 ? 2 : 0, arbitrary: fc.constant('path') },
    { weight: 2, arbitrary: fc.constant('query') },
    { weight: inHeaders.length > 0 ? 1 : 0, arbitrary: fc.constant('headers') },
    { weight: operation.body ? 6 : 2, arbitrary: fc.constant('body') },
    { weight: 1, arbitrary: fc.constant('all') },
  ];
  const part = <T>(corruption: Corruption, which: Corruption, valid: T, hostile: T): T =>
    corruption === which || corruption === 'all' ? hostile : valid;
  return fc
    .record({
      auth,
      corruption: fc.oneof(...corruptions.filter((c) => c.weight > 0)),
      validPath: fc.record(validPath),
      hostilePath: fc.record(hostilePath),
      validQuery: validQueryArbitrary(inQuery, context),
      hostileQuery: hostileQueryArbitrary(inQuery, context),
      validHeaders: headerArbitrary(inHeaders, context, false),
      hostileHeaders: headerArbitrary(inHeaders, context, true),
      validBody: validBodyArbitrary(validBody),
      hostileBody: hostileBodyArbitrary(operation, validBody),
    })
    .map((r) => ({
      auth: r.auth,
      pathParams: part(r.corruption, 'path', r.validPath, r.hostilePath),
      query: part(r.corruption, 'query', r.validQuery, r.hostileQuery),
      headers: part(r.corruption, 'headers', r.validHeaders, r.hostileHeaders),
      body: part(r.corruption, 'body', r.validBody, r.hostileBody),
    }));
}

/** A query or path value as text: strings as they are, anything else as JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (jsonText(value) ?? '');
}

/** Percent-encoded UTF-8 (a lone surrogate, which UTF-8 cannot carry, as U+FFFD, as a browser sends it). */
function encode(text: string): string {
  return encodeURIComponent(
    text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}

/** A value written into the URL as it is, or percent-encoded. */
function urlText(value: unknown): string {
  if (value !== null && typeof value === 'object' && 'raw' in value) return (value as RawSegment).raw;
  // `.` and `..` as they are would be resolved away by the client (as browsers and fetch do)
  return encode(asText(value)).replace(/^\.\.?$/, (dots) => '%2E'.repeat(dots.length));
}

/** The URL of a request: path parameters percent-encoded (but raw segments), then the query pairs. */
export function urlOf(operation: FuzzOperation, request: FuzzRequest): string {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) =>
    urlText(request.pathParams[name]),
  );
  const query = request.query.map(([name, value]) => `${encode(name)}=${urlText(value)}`).join('&');
  return query ? `${path}?${query}` : path;
}

/** A header value as HTTP can carry it (visible Latin-1 and spaces; anything else percent-encoded). */
export function headerText(value: unknown): string {
  return asText(value).replace(/[^\x20-\x7e\xa0-\xff]/g, (c) => encodeURIComponent(c));
}

/** What an answer must be, checked against the document: every problem found, in words. */
export class AnswerChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  private readonly compiled = new Map<Schema, ValidateFunction>();

  constructor(document: FuzzDocument) {
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {}))
      this.ajv.addSchema(rewriteRefs(schema) as object, name);
  }

  private validatorOf(schema: Schema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as object);
      this.compiled.set(schema, validate);
    }
    return validate;
  }

  /**
   * The problems of an answer: a 5xx other than a documented 503 (or 501) with an allowed code; a
   * status the document does not list for the operation; a body its schema does not accept.
   */
  problemsOf(
    operation: FuzzOperation,
    answer: { status: number; contentType: string; body: string },
    allowedServerErrors: ReadonlySet<string>,
  ): string[] {
    const problems: string[] = [];
    const documented = operation.responses.has(answer.status);
    const isJson = answer.contentType.includes('json');
    let parsed: unknown;
    if (isJson) {
      try {
        parsed = JSON.parse(answer.body);
      } catch {
        problems.push(`a body that is not JSON under ${answer.contentType}`);
      }
    }
    if (answer.status >= 500) {
      const code = errorCodeOf(parsed);
      const allowed =
        (answer.status === 503 || answer.status === 501) &&
        documented &&
        (code === undefined ? !operation.path.startsWith('/api/v1/') : allowedServerErrors.has(code));
      if (!allowed) problems.push(`server error ${answer.status}`);
    }
    const response = operation.responses.get(answer.status);
    if (!response) problems.push(`status ${answer.status} is not documented for the operation`);
    const mediaType = answer.contentType.split(';')[0]!.trim();
    if (response && response.contentTypes.length > 0 && !response.contentTypes.includes(mediaType))
      problems.push(
        `a ${mediaType || 'typeless'} body where the document gives ${response.contentTypes.join(', ')}`,
      );
    if (response?.json && parsed !== undefined) {
      const validate = this.validatorOf(response.json);
      if (!validate(parsed))
        problems.push(
          `the body does not match the documented ${answer.status} schema: ${this.ajv.errorsText(validate.errors)}`,
        );
    }
    if (answer.status === 204 && answer.body !== '') problems.push('a 204 with a body');
    return problems;
  }
}

/** The v1 error code of a parsed body, if it has one. */
export function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `#/components/schemas/X` → `X` (each component is added to Ajv under its name). */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$ref' && typeof item === 'string') out[key] = item.replace('#/components/schemas/', '');
    else if (key === 'example' || key === 'examples') continue;
    else out[key] = rewriteRefs(item);
  }
  return out;
}
