import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/** One path × method of the app's OpenAPI document, ready to be requested. */
export interface Operation {
  method: string;
  /** the document's path, e.g. `/api/v1/wallets/{wallet_id}` */
  path: string;
  /** the path with every parameter replaced by a valid-looking value, plus required query parameters */
  url: string;
  /** true when the document says the route takes a bearer token */
  documentedSecurity: boolean;
  /** what the document says of the body: none, optional or required */
  body: 'none' | 'optional' | 'required';
}

interface OpenApiParameter {
  in: string;
  name: string;
  required?: boolean;
}
interface OpenApiOperation {
  security?: unknown[];
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean };
}
/** The part of an OpenAPI document the walks read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** A value of the right look for a parameter: a symbol where the name says so, a UUID otherwise. */
export function sampleValue(name: string): string {
  return /symbol|exchange|asset/i.test(name) ? 'BTCUSDT' : randomUUID();
}

/** Every path × method of the document, ready to be requested. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      const parameters = operation.parameters ?? [];
      let url = path.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(sampleValue(name)));
      const query = parameters
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(sampleValue(p.name))}`);
      if (query.length > 0) url += `?${query.join('&')}`;
      const body = operation.requestBody;
      operations.push({
        method: method.toUpperCase(),
        path,
        url,
        documentedSecurity: (operation.security ?? []).length > 0,
        body: body === undefined ? 'none' : body.required === false ? 'optional' : 'required',
      });
    }
  }
  return operations;
}

/** The app's own document (`GET /openapi.json`), walked by `operationsOf`. */
export async function documentedOperations(app: FastifyInstance): Promise<Operation[]> {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  return operationsOf(res.json());
}
