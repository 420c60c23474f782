import { parseApiKeyCommand, UsageError } from './api-key-command';

describe('parseApiKeyCommand', () => {
  it('reads create with its name, roles and expiry', () => {
    expect(
      parseApiKeyCommand([
        'create',
        '--name',
        'ci',
        '--role',
        'Administrator',
        '--role',
        'Reader',
        '--expires',
        '2027-01-31',
      ]),
    ).toEqual({
      command: 'create',
      name: 'ci',
      roles: ['Administrator', 'Reader'],
      expires: new Date('2027-01-31T00:00:00.000Z'),
    });
  });

  it.each([
    ['2027-01-31T18:00:00Z', '2027-01-31T18:00:00.000Z'],
    ['2027-01-31T19:00:00+01:00', '2027-01-31T18:00:00.000Z'],
    ['2027-01-31T18:00Z', '2027-01-31T18:00:00.000Z'],
    ['2027-01-31T18:00:00.250-02:30', '2027-01-31T20:30:00.250Z'],
  ])('reads --expires %s as a time with its zone', (value, iso) => {
    const command = parseApiKeyCommand([
      'create',
      '--name',
      'ci',
      '--role',
      'Administrator',
      '--expires',
      value,
    ]);
    expect(command).toMatchObject({ expires: new Date(iso) });
  });

  it('reads create without --expires as a key that does not expire', () => {
    expect(parseApiKeyCommand(['create', '--name', 'ci', '--role', 'Administrator'])).toMatchObject({
      expires: null,
    });
  });

  it('reads list and revoke', () => {
    expect(parseApiKeyCommand(['list'])).toEqual({ command: 'list' });
    expect(parseApiKeyCommand(['revoke', 'eik_AbCd1234'])).toEqual({
      command: 'revoke',
      reference: 'eik_AbCd1234',
    });
  });

  it.each([
    [[], 'No command given.'],
    [['delete', 'x'], 'Unknown command "delete".'],
    [['create', '--role', 'Administrator'], 'create needs --name.'],
    [['create', '--name', 'ci'], 'create needs at least one --role.'],
    [
      ['create', '--name', 'ci', '--role', 'Administrator', '--expires', 'tomorrow'],
      '--expires must be an ISO 8601 date or time with a zone, got "tomorrow".',
    ],
    [
      ['create', '--name', 'ci', '--role', 'Administrator', '--expires', '2027-02-30'],
      '--expires must be an ISO 8601 date or time with a zone, got "2027-02-30".',
    ],
    [
      ['create', '--name', 'ci', '--role', 'Administrator', '--expires', '2027-01-31T18:00:00'],
      '--expires must be an ISO 8601 date or time with a zone, got "2027-01-31T18:00:00".',
    ],
    [['create', '--name', 'ci', '--role', 'Administrator', '--colour', 'red'], "Unknown option '--colour'"],
    [['list', 'all'], 'list takes no arguments.'],
    [['revoke'], 'revoke takes one argument: an id, prefix or key.'],
    [['revoke', 'a', 'b'], 'revoke takes one argument: an id, prefix or key.'],
  ])('refuses %j', (argv, message) => {
    const parse = () => parseApiKeyCommand(argv);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });
});
