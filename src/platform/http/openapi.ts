import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** What the transforms need of a route's body schema: a Zod schema can be asked about `undefined`. */
interface MaybeZod {
  safeParse?: (value: unknown) => { success: boolean };
}

/**
 * The OpenAPI document's transforms: Zod schemas become JSON Schema (fastify-type-provider-zod), and
 * a body that the route's schema lets be absent (`.optional()`, `.nullish()`: the logout's) is
 * documented `required: false`. @fastify/swagger marks every body required, but an empty body is
 * no body here (see `installJsonParser`), so such a route is called without one. The named schemas
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
    return jsonSchemaTransform(input);
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
