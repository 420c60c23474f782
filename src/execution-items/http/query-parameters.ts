import { ValidationError, ValidationPipe } from '@nestjs/common';
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
 * The pipe for every input DTO: unknown parameters are rejected, and every failure becomes one
 * `VALIDATION_ERROR` naming each parameter with its messages.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
