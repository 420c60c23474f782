import type { TransformFnParams } from 'class-transformer';
import fastQueryString from 'fast-querystring';
import {
  brokenPercentEncoding,
  parseQueryString,
  toBoolean,
  toList,
  toStrictInteger,
} from './query-parameters';

const strict = (value: unknown) => toStrictInteger({ value } as TransformFnParams);
const list = (value: unknown) => toList({ value } as TransformFnParams);
const bool = (value: unknown) => toBoolean({ value } as TransformFnParams);

describe('toStrictInteger', () => {
  it.each([
    ['12', 12],
    ['-1', -1],
    ['007', 7],
    ['0', 0],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['-9007199254740991', Number.MIN_SAFE_INTEGER],
  ])('converts %p to %p', (input, expected) => {
    expect(strict(input)).toBe(expected);
  });

  it.each([
    'abc',
    '1.5',
    '',
    '0x10',
    '+1',
    '1e1',
    ' 1',
    '1 ',
    '1,0',
    '--1',
    '-',
    '9007199254740992',
    '9007199254740993',
  ])('leaves %p unchanged', (input) => {
    expect(strict(input)).toBe(input);
  });

  it('leaves non-strings unchanged', () => {
    const array = ['1', '2'];
    expect(strict(array)).toBe(array);
    expect(strict(undefined)).toBeUndefined();
    expect(strict(null)).toBeNull();
    expect(strict(5)).toBe(5);
  });
});

describe('toList', () => {
  it('splits a comma-separated string', () => {
    expect(list('a,b')).toEqual(['a', 'b']);
  });

  it('wraps a single value in a list', () => {
    expect(list('a')).toEqual(['a']);
  });

  it('flattens repeated parameters and splits each', () => {
    expect(list(['a', 'b,c'])).toEqual(['a', 'b', 'c']);
  });

  it('leaves non-strings unchanged', () => {
    const mixed = ['a', 1];
    expect(list(5)).toBe(5);
    expect(list(undefined)).toBeUndefined();
    expect(list(null)).toBeNull();
    expect(list(mixed)).toBe(mixed);
  });
});

describe('toBoolean', () => {
  it('reads "true" and "false"', () => {
    expect(bool('true')).toBe(true);
    expect(bool('false')).toBe(false);
  });

  it.each(['1', 'TRUE', '', 'yes'])('leaves %p for the service to refuse', (value) => {
    expect(bool(value)).toBe(value);
  });
});

describe('parseQueryString', () => {
  const plain = (query: string) => ({ ...parseQueryString(query) });

  it.each([
    'page=1&pageSize=25',
    'a=1&a=2&a=3',
    'a',
    'a=',
    '=x',
    'a&&b=1',
    'c=x+y&d=%2B',
    'search=%E2%82%AC%20%F0%9F%98%80',
    'name%5B%5D=1',
    '',
  ])('parses %p as Fastify does', (query) => {
    expect(plain(query)).toEqual({ ...fastQueryString.parse(query) });
    expect(brokenPercentEncoding(parseQueryString(query))).toEqual([]);
  });

  it.each([
    ['search=%FF%FE', ['search'], { search: '%FF%FE' }],
    ['search=%zz&page=1', ['search'], { search: '%zz', page: '1' }],
    ['a=%E2%82&b=%&a=ok', ['a', 'b'], { a: ['%E2%82', 'ok'], b: '%' }],
    ['%FF=1', ['%FF'], { '%FF': '1' }],
  ])('lists the parameters of %p whose percent-encoding is broken', (query, broken, parsed) => {
    const result = parseQueryString(query);
    expect(brokenPercentEncoding(result)).toEqual(broken);
    expect({ ...result }).toEqual(parsed);
    expect(Object.keys(result)).toEqual(Object.keys(parsed));
  });

  it('finds nothing broken in a query another parser made', () => {
    expect(brokenPercentEncoding({ search: '%FF' })).toEqual([]);
    expect(brokenPercentEncoding(undefined)).toEqual([]);
  });
});
