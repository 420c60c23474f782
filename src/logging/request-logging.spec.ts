import type { IncomingMessage } from 'node:http';
import { loggableUrl, requestIdFor } from './request-logging';

const withRequestId = (value?: string | string[]) =>
  ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as unknown as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it.each(['abc', 'trace-42.a_b:c', '0af7651916cd43dd8448eb211c80319c', 'x'.repeat(128)])(
    'keeps %p',
    (id) => {
      expect(requestIdFor(withRequestId(id))).toBe(id);
    },
  );

  it.each([
    ['nothing', undefined],
    ['an empty value', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a space', 'a b'],
    ['a newline', 'a\nb'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'idé'],
    ['a repeated header', ['a', 'b']],
  ])('generates a UUID instead of %s', (_case, value) => {
    expect(requestIdFor(withRequestId(value))).toMatch(UUID);
  });
});

describe('loggableUrl', () => {
  it.each([
    ['/api/v1/activities?access_token=abc.def.ghi', '/api/v1/activities?access_token=[Redacted]'],
    ['/x?page=1&ACCESS_TOKEN=abc&pageSize=2', '/x?page=1&ACCESS_TOKEN=[Redacted]&pageSize=2'],
    [
      '/x?token=a&api_key=b&apikey=c&id_token=d&refresh_token=e',
      '/x?token=[Redacted]&api_key=[Redacted]&apikey=[Redacted]&id_token=[Redacted]&refresh_token=[Redacted]',
    ],
    ['/x?my_access_token=kept&page=1', '/x?my_access_token=kept&page=1'],
    ['/x?page=1', '/x?page=1'],
  ])('%s → %s', (url, expected) => {
    expect(loggableUrl(url)).toBe(expected);
  });
});
