import { copyField, copyRow } from './copy-format';

describe('COPY text format', () => {
  it('writes null as \\N and numbers as digits', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(42)).toBe('42');
  });

  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField('Jane "JJ" Smith, O\'Neil; 100% ✓ \\N')).toBe('Jane "JJ" Smith, O\'Neil; 100% ✓ \\\\N');
  });

  it('keeps an empty string distinct from null', () => {
    expect(copyRow(['', null, 'x'])).toBe('\t\\N\tx\n');
  });

  it('escapes JSON text so that its own backslashes survive', () => {
    const json = JSON.stringify([{ detailMessage: 'line\nbreak "quoted" C:\\path' }]);
    expect(copyField(json)).toBe('[{"detailMessage":"line\\\\nbreak \\\\"quoted\\\\" C:\\\\\\\\path"}]');
  });
});
