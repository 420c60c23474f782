import { ValidationError, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import type { TransformFnParams } from 'class-transformer';
import type { ValidationErrors } from '../execution-items.error';
import { ApiError } from './api-error';

/**
 * Converts a plain decimal integer string (`"12"`, `"-1"`) to a number and leaves anything else
 * untouched, so `@IsInt` rejects it. class-transformer's own conversion would accept `0x10`,
 * `1e1`, `+1` and ` 1`; this accepts only digits, and only within the safe integer range.
 */
export function toStrictInteger({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return value;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : value;
}

/** `"true"` and `"false"` as booleans; anything else is left for the service to refuse. */
export function toBoolean({ value }: TransformFnParams): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** Splits `a,b` and repeated parameters into one list; leaves other values for the validators. */
export function toList({ value }: TransformFnParams): unknown {
  const parts = Array.isArray(value) ? value : [value];
  if (!parts.every((part) => typeof part === 'string')) return value;
  return parts.flatMap((part: string) => part.split(','));
}

/**
 * Where `parseQueryString` lists the parameters whose name or value is not valid
 * percent-encoding: a symbol-keyed property of the parsed query, invisible to the DTOs. A
 * registered symbol, so that a host's copy of the parser and the module's pipe agree.
 */
export const BROKEN_PERCENT_ENCODING = Symbol.for('@identity-sync/execution-items/broken-percent-encoding');

export const BROKEN_PERCENT_ENCODING_MESSAGE = 'is not valid percent-encoding';

type ParsedQuery = Record<string, string | string[]> & { [BROKEN_PERCENT_ENCODING]?: string[] };

/** `decodeURIComponent` with `+` as a space, or `null` when the text is not valid percent-encoding. */
function decodeQueryComponent(text: string): string | null {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return null;
  }
}

/**
 * A query string parser for the HTTP server (Fastify's `routerOptions.querystringParser`; in
 * Express, `app.set('query parser', parseQueryString)`). It parses as Fastify's own does
 * (`a=1&a=2` is a list, `+` a space, `a` alone an empty value), except that a name or value
 * whose percent-encoding is broken (`%FF%FE`, `%zz`, `%E2%82`) is not taken literally: it is
 * listed under `BROKEN_PERCENT_ENCODING`, and the validation pipe answers 400 naming the
 * parameter, as it does for the path.
 */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const result: ParsedQuery = Object.create(null) as ParsedQuery;
  const broken: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    const decodedName = decodeQueryComponent(rawName);
    const name = decodedName ?? rawName;
    const value = decodeQueryComponent(rawValue);
    if ((decodedName === null || value === null) && !broken.includes(name)) broken.push(name);
    const current = result[name];
    const text = value ?? rawValue;
    result[name] =
      current === undefined ? text : Array.isArray(current) ? [...current, text] : [current, text];
  }
  if (broken.length > 0) {
    Object.defineProperty(result, BROKEN_PERCENT_ENCODING, { value: broken, enumerable: false });
  }
  return result;
}

/** The parameters `parseQueryString` found broken in a parsed query, if any. */
export function brokenPercentEncoding(query: unknown): string[] {
  if (typeof query !== 'object' || query === null) return [];
  const broken = (query as ParsedQuery)[BROKEN_PERCENT_ENCODING];
  return Array.isArray(broken) ? broken : [];
}

/**
 * The validation pipe, which first refuses a query whose percent-encoding the parser found
 * broken (see `parseQueryString`).
 */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') {
      const broken = brokenPercentEncoding(value);
      if (broken.length > 0) {
        throw ApiError.validation(
          Object.fromEntries(broken.map((name) => [name, [BROKEN_PERCENT_ENCODING_MESSAGE]])),
        );
      }
    }
    return super.transform(value, metadata);
  }
}

/**
 * The pipe for every input DTO: unknown parameters are rejected, and every failure becomes one
 * `VALIDATION_ERROR` naming each parameter with its messages. A query parameter with broken
 * percent-encoding is refused first (when the server parses queries with `parseQueryString`).
 */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => ApiError.validation(collectMessages(errors)),
  });
}

function collectMessages(errors: ValidationError[], prefix = ''): ValidationErrors {
  const result: ValidationErrors = {};
  for (const error of errors) {
    const name = `${prefix}${error.property}`;
    const messages = Object.entries(error.constraints ?? {}).map(([constraint, message]) =>
      constraint === 'whitelistValidation' ? 'is not a known parameter' : message,
    );
    if (messages.length > 0) result[name] = messages;
    Object.assign(result, collectMessages(error.children ?? [], `${name}.`));
  }
  return result;
}
