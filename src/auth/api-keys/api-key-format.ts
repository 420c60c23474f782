import { createHash, randomBytes } from 'node:crypto';

/** Every key starts with this, so that people, logs and secret scanners can recognise one. */
export const API_KEY_PREFIX = 'eik_';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random characters after the prefix: 40 base-62 characters are 238 bits. */
const SECRET_LENGTH = 40;
/** Characters of the secret kept as the display prefix (`eik_` and 8 more). */
const DISPLAY_LENGTH = 8;
const WELL_FORMED = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${SECRET_LENGTH}}$`);

/** A new key: `eik_` and 40 random letters and digits (no `-` or `_`: one double-click selects it). */
export function generateApiKey(): string {
  let secret = '';
  while (secret.length < SECRET_LENGTH) {
    for (const byte of randomBytes(SECRET_LENGTH)) {
      // 248 = 4 × 62: bytes from 248 up are dropped so every character is equally likely.
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += ALPHABET[byte % 62];
    }
  }
  return API_KEY_PREFIX + secret;
}

/** Whether a presented value can be a key at all; anything else is refused without a lookup. */
export function isWellFormedApiKey(value: string): boolean {
  return WELL_FORMED.test(value);
}

/**
 * The stored form of a key: SHA-256, hex. A key is 238 random bits, so a fast unsalted hash is
 * enough (nothing to guess from it, no dictionary to try); a slow password hash would only slow
 * every request down.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The short prefix shown in lists, enough to tell keys apart and useless to an attacker. */
export function displayPrefixOf(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + DISPLAY_LENGTH);
}
