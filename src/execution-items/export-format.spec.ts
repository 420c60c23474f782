import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createExportEncoder, csvField, exportFileName, type ExportedItem } from './export-format';

const item: ExportedItem = {
  sequence: 7,
  id: '01a21f41-3fe3-75ce-999e-954ad2d67538',
  externalIdValue: 'E100005',
  displayName: 'Smith, "Jane"',
  connectedSystemObjectType: 'user',
  objectChangeType: 'NoChange',
  errorType: 'AmbiguousMatch',
  outcomeSummary: null,
  errorMessage: 'line one\nline two',
};

describe('csvField', () => {
  it.each([
    [null, ''],
    [42, '42'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['', ''],
  ])('writes %p as %p (RFC 4180)', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
  ])('neutralises the formula %p', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('createExportEncoder', () => {
  it('writes a CSV header and CRLF-terminated records', async () => {
    const csv = await text(Readable.from([item]).pipe(createExportEncoder('csv')));
    expect(csv).toBe(
      'sequence,id,externalIdValue,displayName,connectedSystemObjectType,objectChangeType,errorType,outcomeSummary,errorMessage\r\n' +
        '7,01a21f41-3fe3-75ce-999e-954ad2d67538,E100005,"Smith, ""Jane""",user,NoChange,AmbiguousMatch,,"line one\nline two"\r\n',
    );
  });

  it('writes the header alone for no items', async () => {
    expect(await text(Readable.from([]).pipe(createExportEncoder('csv')))).toMatch(
      /^sequence,.*errorMessage\r\n$/,
    );
  });

  it('writes one JSON object per line, values unchanged', async () => {
    const ndjson = await text(
      Readable.from([item, { ...item, displayName: '=1' }]).pipe(createExportEncoder('ndjson')),
    );
    const lines = ndjson.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0])).toEqual(item);
    expect(JSON.parse(lines[1]).displayName).toBe('=1');
  });
});

describe('exportFileName', () => {
  const id = '9e8f7a6b-5c4d-4e3f-8a2b-1c0d9e8f7a6b';

  it('names the connected system, the run profile and the activity', () => {
    expect(exportFileName({ id, targetContext: 'Corporate LDAP', targetName: 'Export' }, 'csv')).toBe(
      `Corporate-LDAP-Export-${id}.csv`,
    );
  });

  it('keeps only characters safe in a header and a file system', () => {
    expect(
      exportFileName({ id, targetContext: '../"evil"\r\nX: y', targetName: 'Zürich Ärzte' }, 'ndjson'),
    ).toBe(`evil-X-y-Zurich-Arzte-${id}.ndjson`);
    expect(exportFileName({ id, targetContext: null, targetName: null }, 'csv')).toBe(`${id}.csv`);
  });
});
