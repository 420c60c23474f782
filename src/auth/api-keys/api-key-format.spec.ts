import { createHash } from 'node:crypto';
import { displayPrefixOf, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format';

describe('API key format', () => {
  it('generates eik_ and 40 letters and digits, different every time', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const key of keys) expect(key).toMatch(/^eik_[0-9A-Za-z]{40}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('uses the whole alphabet', () => {
    const characters = new Set(
      Array.from({ length: 200 }, generateApiKey).flatMap((key) => [...key.slice(4)]),
    );
    expect(characters.size).toBe(62);
  });

  it('accepts only well-formed keys', () => {
    expect(isWellFormedApiKey(generateApiKey())).toBe(true);
    for (const value of [
      '',
      'eik_',
      `eik_${'a'.repeat(39)}`,
      `eik_${'a'.repeat(41)}`,
      `EIK_${'a'.repeat(40)}`,
      `xyz_${'a'.repeat(40)}`,
      `eik_${'a'.repeat(39)}-`,
      ` eik_${'a'.repeat(40)}`,
      `eik_${'a'.repeat(40)}\n`,
      `eik_${'a'.repeat(40)}, eik_${'b'.repeat(40)}`,
    ]) {
      expect(isWellFormedApiKey(value)).toBe(false);
    }
  });

  it('hashes with SHA-256 as lower-case hex', () => {
    const key = `eik_${'a'.repeat(40)}`;
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('shows the prefix and the first 8 characters of the secret', () => {
    expect(displayPrefixOf('eik_AbCdEfGh0123456789012345678901234567')).toBe('eik_AbCdEfGh');
  });
});
