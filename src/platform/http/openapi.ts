import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { codeToStatus, type HttpError } from './errors.js';

/**
 * What the platform's hooks tell the document about the routes of their scope (set when a route is
 * registered, read when the document is made): the NUL guard answers 422 on any of them, and a seed
 * contract's error handler answers another status than v1 for some codes (seed 004: 400 for 422).
 */
export interface RouteDocumentation {
  nulGuarded?: boolean;
  statusOf?: (error: HttpError) => number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** for the OpenAPI document: see `documentRoutes` */
    documentation?: RouteDocumentation;
  }
}

/** Marks every route registered on `app` from now on (its children's too) with `documentation`. */
export function documentRoutes(app: FastifyInstance, documentation: RouteDocumentation): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, documentation: { ...route.config?.documentation, ...documentation } };
  });
}

/** Methods whose body Fastify parses (with the content type's parser). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UNSAFE_METHODS = BODY_METHODS;

interface RouteSchema {
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  headers?: unknown;
  security?: unknown[];
  response?: Record<string, unknown>;
}

/**
 * The error codes the platform answers for a route before (or whatever) its handler does: the body
 * parser's (bad JSON or key, an ambiguous number, too large, another content type) where a body is
 * parsed, the router's (a broken percent-encoding, a path parameter over 256 characters) where the
 * path has a parameter, validation where anything is validated or the NUL guard runs, and the auth
 * guard's (no or bad token, a cookie-authenticated cross-site write) where a token is needed.
 */
function platformCodes(method: string, url: string, schema: RouteSchema, documentation: RouteDocumentation) {
  const codes: string[] = [];
  if (BODY_METHODS.has(method))
    codes.push('MALFORMED_JSON', 'FORBIDDEN_JSON_KEY', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (url.includes(':')) codes.push('BAD_REQUEST', 'URI_TOO_LONG');
  const validated = schema.params ?? schema.querystring ?? schema.body ?? schema.headers;
  if (validated !== undefined || documentation.nulGuarded || BODY_METHODS.has(method))
    codes.push('VALIDATION_ERROR');
  if ((schema.security ?? []).length > 0) {
    codes.push('UNAUTHORIZED');
    if (UNSAFE_METHODS.has(method)) codes.push('CSRF_REJECTED');
  }
  return codes;
}

/**
 * `schema` with a response added for each status the platform may answer (`platformCodes`, as the
 * route's family answers them) that the route does not list, with the route's own error body (its
 * first 4xx response, in its content type) and the codes it stands for as its description: so the
 * document lists every status a client can get. A route that documents no 4xx (the health probes)
 * is left as it is.
 */
function withPlatformResponses(
  method: string,
  url: string,
  schema: RouteSchema,
  documentation: RouteDocumentation,
): RouteSchema {
  const response = schema.response ?? {};
  const errorStatus = Object.keys(response)
    .filter((status) => /^4\d\d$/.test(status))
    .sort()[0];
  if (errorStatus === undefined) return schema;
  const errorBody = response[errorStatus] as { content?: unknown };
  const content = errorBody.content ?? { 'application/json': { schema: errorBody } };
  const codesByStatus = new Map<string, string[]>();
  for (const code of platformCodes(method, url, schema, documentation)) {
    const error: HttpError = { status: codeToStatus(code), code, message: code };
    const status = String(documentation.statusOf?.(error) ?? error.status);
    if (!(status in response)) codesByStatus.set(status, [...(codesByStatus.get(status) ?? []), code]);
  }
  const added = Object.fromEntries(
    [...codesByStatus].map(([status, codes]) => [status, { description: codes.join(', '), content }]),
  );
  return { ...schema, response: { ...response, ...added } };
}

/** What the transforms need of a route's body schema: a Zod schema can be asked about `undefined`. */
interface MaybeZod {
  safeParse?: (value: unknown) => { success: boolean };
}

/**
 * The OpenAPI document's transforms: Zod schemas become JSON Schema (fastify-type-provider-zod), and
 * a body that the route's schema lets be absent (`.optional()`, `.nullish()`: the logout's) is
 * documented `required: false`. @fastify/swagger marks every body required, but an empty body is
 * no body here (see `installJsonParser`), so such a route is called without one. Each operation
 * also lists the errors the platform answers for it (`withPlatformResponses`). The named schemas
 * (`.meta({ id })`) are written into `components.schemas`, where the routes' `$ref`s point.
 */
export function openApiTransforms(): {
  transform: SwaggerTransform;
  transformObject: SwaggerTransformObject;
} {
  /** `METHOD /path/{param}` of each route whose body may be absent */
  const optionalBodies = new Set<string>();
  const transform: SwaggerTransform = (input) => {
    const body = input.schema?.body as MaybeZod | undefined;
    if (typeof body?.safeParse === 'function' && body.safeParse(undefined).success) {
      const methods = [input.route.method].flat();
      const path = input.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      for (const method of methods) optionalBodies.add(`${method.toLowerCase()} ${path}`);
    }
    if (!input.schema) return jsonSchemaTransform(input);
    const method = [input.route.method].flat()[0] ?? 'GET';
    const documentation = input.route.config?.documentation ?? {};
    const schema = withPlatformResponses(method, input.url, input.schema as RouteSchema, documentation);
    return jsonSchemaTransform({ ...input, schema: schema as typeof input.schema });
  };
  const transformObject: SwaggerTransformObject = (document) => {
    if (!('openapiObject' in document)) return document.swaggerObject;
    const openapi = jsonSchemaTransformObject(document) as typeof document.openapiObject;
    for (const [path, item] of Object.entries(openapi.paths ?? {})) {
      for (const [method, operation] of Object.entries(item ?? {})) {
        const requestBody = (operation as { requestBody?: { required?: boolean } } | undefined)?.requestBody;
        if (requestBody && optionalBodies.has(`${method} ${path}`)) requestBody.required = false;
      }
    }
    return openapi;
  };
  return { transform, transformObject };
}
