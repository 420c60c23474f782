import { ValidationError, ValidationPipe } from '@nestjs/common';
import type { TransformFnParams } from 'class-transformer';
import { ApiError, type ValidationErrors } from './api-error';

/** A GUID in its 8-4-4-4-12 form, any case; no braces. */
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

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
