import { parseActivityFilters, parseCreatedRange, parseTimestamp } from './run-filters';

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-29', '2026-11-29T00:00:00.000000Z'],
    ['2026-11-29T18:00Z', '2026-11-29T18:00:00.000000Z'],
    ['2026-11-29T18:00:05Z', '2026-11-29T18:00:05.000000Z'],
    ['2026-11-29T18:00:05.5Z', '2026-11-29T18:00:05.500000Z'],
    ['2026-11-29T19:00:05.000001+01:00', '2026-11-29T18:00:05.000001Z'],
    ['2026-11-29T00:30:00-05:30', '2026-11-29T06:00:00.000000Z'],
    ['2024-02-29T23:59:59.999999Z', '2024-02-29T23:59:59.999999Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000000Z'],
  ])('%s is %s', (value, expected) => {
    expect(parseTimestamp(value)).toBe(expected);
  });

  it('takes a Date', () => {
    expect(parseTimestamp(new Date('2026-11-29T18:00:05.123Z'))).toBe('2026-11-29T18:00:05.123000Z');
    expect(parseTimestamp(new Date('nope'))).toBeUndefined();
  });

  it.each([
    'yesterday',
    '',
    '2026-11-29T18:00:00',
    '2026-11-29 18:00:00Z',
    '2026-02-29',
    '2026-11-31',
    '2026-13-01',
    '2026-11-29T24:00:00Z',
    '2026-11-29T23:60:00Z',
    '2026-11-29T23:59:60Z',
    '2026-11-29T18:00:00.1234567Z',
    '2026-11-29T18:00:00+24:00',
    '2026-11-29T18:00:00+0100',
    '0000-01-01',
    '1700000000',
    '+2026-11-29',
  ])('refuses %j', (value) => {
    expect(parseTimestamp(value)).toBeUndefined();
  });

  it('refuses what is not a string or a Date', () => {
    expect(parseTimestamp(1700000000)).toBeUndefined();
    expect(parseTimestamp(['2026-11-29'])).toBeUndefined();
  });
});

describe('parseCreatedRange', () => {
  it('names createdTo when it is not later than createdFrom, whatever the offsets', () => {
    const problems = {};
    parseCreatedRange({ createdFrom: '2026-11-29T01:00:00+01:00', createdTo: '2026-11-29' }, problems);
    expect(problems).toEqual({ createdTo: ['must be later than createdFrom'] });
  });
});

describe('parseActivityFilters', () => {
  it('normalises: vocabulary order, names deduplicated, UTC timestamps, absent keys left out', () => {
    expect(
      parseActivityFilters({
        status: ['Cancelled', 'Complete', 'Cancelled'],
        connectedSystemName: ['HR', 'HR'],
        createdFrom: '2026-11-29',
        hasErrors: false,
      }),
    ).toEqual({
      status: ['Complete', 'Cancelled'],
      connectedSystemName: ['HR'],
      createdFrom: '2026-11-29T00:00:00.000000Z',
      hasErrors: false,
    });
  });

  it('reports every bad parameter at once', () => {
    expect(() =>
      parseActivityFilters({ runType: ['Nope'], runProfileName: [''], createdTo: 'x', hasErrors: 'yes' }),
    ).toThrow(
      expect.objectContaining({
        reason: 'InvalidInput',
        validationErrors: {
          runType: [
            'must be one of FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export',
          ],
          runProfileName: ['must be run profile names of 1 to 256 characters without control characters'],
          createdTo: [expect.stringMatching(/^must be an ISO 8601 date/)],
          hasErrors: ['must be true or false'],
        },
      }),
    );
  });
});
