/**
 * Checks real responses against the served OpenAPI document with ajv: the status must be
 * documented for the operation, the content type listed, the headers it marks required
 * present, and the body valid against the schema. Every object schema is closed
 * (`additionalProperties: false`) before compiling, so a field the document does not list fails
 * as well. `nullable` has OpenAPI 3.0's strict meaning: it allows `null` only beside a `type` in
 * the same schema, and the schema's other keywords (an `enum`) still apply to it.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';

type Json = Record<string, unknown>;

interface OperationObject {
  responses: Record<
    string,
    { content?: Record<string, { schema: Json }>; headers?: Record<string, { required?: boolean }> }
  >;
}

const ROOT_ID = 'openapi';
/** OpenAPI 3.0 annotations that are not JSON Schema keywords. */
const ANNOTATIONS = new Set(['example', 'examples', 'xml', 'externalDocs', 'discriminator', 'deprecated']);

/**
 * OpenAPI 3.0 schema → JSON Schema: `nullable: true` beside a `type` adds `null` to that type
 * (and nothing elsewhere: beside `allOf` or a `$ref` alone it allows no `null`); objects are closed.
 */
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
  if ((schema as Json).nullable === true && typeof result.type === 'string') {
    result.type = [result.type, 'null'];
  }
  return result;
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

  /** The document's path template that `pathname` (as sent, percent-encoded) is an instance of. */
  pathFor(method: string, pathname: string): string | null {
    if (!this.templates) {
      const paths = Object.keys(this.document.paths as object);
      // Literal segments before parameters: `/items/export` before `/items/{itemId}`.
      this.templates = paths
        .map((path) => ({
          path,
          parameters: (path.match(/\{[^}]+\}/g) ?? []).length,
          pattern: new RegExp(
            `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`,
          ),
        }))
        .sort((a, b) => a.parameters - b.parameters);
    }
    const methods = this.document.paths as Record<string, Record<string, unknown>>;
    const match = this.templates.find(
      ({ path, pattern }) => pattern.test(pathname) && methods[path][method.toLowerCase()] !== undefined,
    );
    return match?.path ?? null;
  }

  private templates: Array<{ path: string; parameters: number; pattern: RegExp }> | null = null;

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
    for (const [header, { required }] of Object.entries(documented.headers ?? {})) {
      if (required && response.headers[header.toLowerCase()] === undefined) {
        throw new Error(`${where} lacks ${header}`);
      }
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
    const body: unknown = contentType === 'application/json' ? jsonOf(response) : textOf(response);
    if (!validate(body)) {
      throw new Error(
        `${where}: ${this.ajv.errorsText(validate.errors)}\n${String(JSON.stringify(body)).slice(0, 500)}`,
      );
    }
  }
}

/** A text body as received, also when the spec read it with a parser of its own (a Buffer). */
function textOf(response: Response): string {
  if (typeof response.text === 'string') return response.text;
  const body: unknown = response.body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : '';
}

/** A JSON body as parsed, or parsed here when the spec read it as text. */
function jsonOf(response: Response): unknown {
  const body: unknown = response.body;
  if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) return body;
  const text = textOf(response);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
