/**
 * Checks real responses against the served OpenAPI document with ajv: the status must be
 * documented for the operation, the content type listed, the documented headers present, and
 * the body valid against the schema. Every object schema is closed (`additionalProperties:
 * false`) before compiling, so a field the document does not list fails as well.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';

type Json = Record<string, unknown>;

interface OperationObject {
  responses: Record<
    string,
    { content?: Record<string, { schema: Json }>; headers?: Record<string, unknown> }
  >;
}

const ROOT_ID = 'openapi';
/** OpenAPI 3.0 annotations that are not JSON Schema keywords. */
const ANNOTATIONS = new Set(['example', 'examples', 'xml', 'externalDocs', 'discriminator', 'deprecated']);

/** OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a union with null; objects are closed. */
export function toJsonSchema(schema: unknown, insideAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item));
  if (typeof schema !== 'object' || schema === null) return schema;
  const result: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') {
      result.$ref = value.replace('#/components/schemas/', `${ROOT_ID}#/definitions/`);
    } else if (key === 'allOf' && Array.isArray(value)) {
      result.allOf = value.map((item) => toJsonSchema(item, true));
    } else if (key === 'properties' || key === 'definitions') {
      result[key] = Object.fromEntries(
        Object.entries(value as Json).map(([name, property]) => [name, toJsonSchema(property)]),
      );
    } else {
      result[key] = toJsonSchema(value);
    }
  }
  if (result.properties && result.additionalProperties === undefined && !insideAllOf) {
    result.additionalProperties = false;
  }
  return (schema as Json).nullable === true ? { anyOf: [result, { type: 'null' }] } : result;
}

export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    this.ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Json;
    this.ajv.addSchema({ $id: ROOT_ID, definitions: toJsonSchema(schemas) as Json });
  }

  operation(method: string, path: string): OperationObject {
    const paths = this.document.paths as Record<string, Record<string, OperationObject>>;
    const operation = paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`The document has no ${method} ${path}`);
    return operation;
  }

  /**
   * Throws, naming what differs, unless `response` is what the document says `method path`
   * answers: the status documented, its content type, headers and body schema.
   */
  expectDocumented(method: string, path: string, response: Response): void {
    const documented = this.operation(method, path).responses[String(response.status)];
    const where = `${method} ${path} ${response.status}`;
    if (!documented) throw new Error(`${where} is not documented`);
    for (const header of Object.keys(documented.headers ?? {})) {
      if (response.headers[header.toLowerCase()] === undefined) throw new Error(`${where} lacks ${header}`);
    }
    const contentType = String(response.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const content = documented.content?.[contentType];
    if (!content) throw new Error(`${where}: content type ${contentType} is not documented`);
    const key = `${where} ${contentType}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(content.schema) as Json);
      this.validators.set(key, validate);
    }
    const body: unknown = contentType === 'application/json' ? response.body : response.text;
    if (!validate(body)) {
      throw new Error(
        `${where}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
      );
    }
  }
}
