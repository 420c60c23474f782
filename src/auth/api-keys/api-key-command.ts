import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError } from '../../execution-items';
import type { ApiKeysService, ApiKeySummary } from './api-keys.service';

export const API_KEY_USAGE = [
  'Usage:',
  '  npm run apikey -- create --name <name> --role <role> [--role <role> ...] [--expires <date>] [--json]',
  '  npm run apikey -- list [--json]',
  '  npm run apikey -- revoke <id, prefix or key> [--json]',
  '  npm run apikey -- --help',
  '',
  '--expires takes an ISO 8601 date (2027-01-31, which means 00:00 UTC) or time with a zone',
  '(2027-01-31T18:00:00Z, 2027-01-31T19:00:00+01:00).',
  '--json prints the result as one JSON document on stdout instead of text.',
  'Roles: Administrator (reads), the AUTH_READER_ROLES (reads), SyncEngine (AUTH_ENGINE_ROLE: writes).',
  '',
  'Uses DATABASE_URL, or else the embedded database in PGLITE_DATA_DIR (which the service must not',
  'have open: the command then exits 75 and changes nothing).',
  'Exit codes: 0 done (revoking a key already revoked is done: it says so and changes nothing),',
  '1 refused or failed, 75 the embedded database is in use by another process.',
].join('\n');

export type ApiKeyCommand =
  | { command: 'help' }
  | { command: 'create'; name: string; roles: string[]; expires: Date | null; json?: boolean }
  | { command: 'list'; json?: boolean }
  | { command: 'revoke'; reference: string; json?: boolean };

/** The command line is wrong; the message says how, followed by the usage. */
export class UsageError extends Error {}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads `create`, `list` or `revoke` and their options; anything else is a `UsageError`. */
export function parseApiKeyCommand(argv: string[]): ApiKeyCommand {
  if (argv.includes('--help') || argv.includes('-h')) return { command: 'help' };
  const [command, ...rest] = argv;
  const parse = (options: NonNullable<ParseArgsConfig['options']>, positionals: number) => {
    try {
      const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
      if (parsed.positionals.length !== positionals) {
        throw new UsageError(
          positionals === 0
            ? `${command} takes no arguments.`
            : `${command} takes one argument: an id, prefix or key.`,
        );
      }
      return parsed;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  };
  switch (command) {
    case 'create': {
      const { values } = parse(
        {
          name: { type: 'string' },
          role: { type: 'string', multiple: true },
          expires: { type: 'string' },
          json: { type: 'boolean' },
        },
        0,
      );
      const name = values.name as string | undefined;
      const roles = (values.role as string[] | undefined) ?? [];
      if (!name) throw new UsageError('create needs --name.');
      if (roles.length === 0) throw new UsageError('create needs at least one --role.');
      return {
        command,
        name,
        roles,
        expires: parseExpiry(values.expires as string | undefined),
        ...jsonFlag(values.json),
      };
    }
    case 'list': {
      const { values } = parse({ json: { type: 'boolean' } }, 0);
      return { command, ...jsonFlag(values.json) };
    }
    case 'revoke': {
      const { values, positionals } = parse({ json: { type: 'boolean' } }, 1);
      return { command, reference: positionals[0], ...jsonFlag(values.json) };
    }
    default:
      throw new UsageError(command ? `Unknown command "${command}".` : 'No command given.');
  }
}

function jsonFlag(value: unknown): { json?: true } {
  return value === true ? { json: true } : {};
}

function parseExpiry(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const date = DATE.test(value)
    ? new Date(`${value}T00:00:00Z`)
    : DATE_TIME.test(value)
      ? new Date(value)
      : null;
  if (
    !date ||
    Number.isNaN(date.getTime()) ||
    (DATE.test(value) && date.toISOString().slice(0, 10) !== value)
  ) {
    throw new UsageError(`--expires must be an ISO 8601 date or time with a zone, got "${value}".`);
  }
  return date;
}

/** Runs a command and returns what to print. A refused request is an `ApiError` (printed by the caller). */
export async function runApiKeyCommand(
  command: Exclude<ApiKeyCommand, { command: 'help' }>,
  apiKeys: ApiKeysService,
): Promise<string> {
  switch (command.command) {
    case 'create': {
      const { key, apiKey } = await apiKeys.createKey(command);
      if (command.json) return json({ key, apiKey });
      return [
        'API key created. It is shown only this once: store it now.',
        '',
        `  ${key}`,
        '',
        ...describeKey(apiKey),
        '',
        'Send it in the X-API-Key header (not together with an Authorization header).',
        '',
      ].join('\n');
    }
    case 'list': {
      const keys = await apiKeys.listKeys();
      if (command.json) return json(keys);
      return keys.length === 0 ? 'No API keys.\n' : `${table(keys)}\n`;
    }
    case 'revoke': {
      const asked = new Date();
      const apiKey = await apiKeys.revokeKey(command.reference);
      // The service stamps a revocation with this process's clock: one before the call was there already.
      const alreadyRevoked = apiKey.revoked !== null && apiKey.revoked.getTime() < asked.getTime();
      if (command.json) return json({ apiKey, alreadyRevoked });
      if (alreadyRevoked) {
        return `API key ${apiKey.id} (${apiKey.prefix}, "${apiKey.name}") was already revoked on ${apiKey.revoked!.toISOString()}; nothing changed.\n`;
      }
      return [
        `Revoked API key ${apiKey.id} (${apiKey.prefix}, "${apiKey.name}").`,
        'A running service refuses it at the latest API_KEY_CACHE_SECONDS (default 10) from now.',
        '',
      ].join('\n');
    }
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** The message of a refused command: the error and, for bad input, each field's problem. */
export function describeCommandError(error: ApiError): string {
  const fields = Object.entries(error.validationErrors ?? {}).map(
    ([field, messages]) => `  ${field}: ${messages.join('; ')}`,
  );
  return [error.message, ...fields].join('\n');
}

function describeKey(apiKey: ApiKeySummary): string[] {
  return [
    `  id       ${apiKey.id}`,
    `  name     ${apiKey.name}`,
    `  prefix   ${apiKey.prefix}`,
    `  roles    ${apiKey.roles.join(', ')}`,
    `  expires  ${apiKey.expires?.toISOString() ?? 'never'}`,
  ];
}

function table(keys: ApiKeySummary[]): string {
  const rows = [
    ['ID', 'PREFIX', 'STATUS', 'NAME', 'ROLES', 'CREATED', 'EXPIRES'],
    ...keys.map((key) => [
      key.id,
      key.prefix,
      key.status,
      key.name,
      key.roles.join(','),
      key.created.toISOString(),
      key.expires?.toISOString() ?? 'never',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
