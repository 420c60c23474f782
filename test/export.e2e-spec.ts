import request from 'supertest';
import { Activity, ERROR_TYPES, type NewExecutionItem } from '../src/execution-items';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import {
  FORBIDDEN_MESSAGE,
  GUID_MESSAGE,
  MISSING_ID,
  SORT_BYS,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  activityNotFoundBody,
  appendInBatches,
  errorBody,
  expectAcceptedValuesError,
  expectedItems,
  getAs,
  notARunProfileBody,
  queryString,
  validationErrorNaming,
  type ItemQuery,
  type WrittenItem,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const COLUMNS = [
  'sequence',
  'id',
  'externalIdValue',
  'displayName',
  'connectedSystemObjectType',
  'objectChangeType',
  'errorType',
  'outcomeSummary',
  'errorMessage',
] as const;
// RFC 4180's optional `header=present` parameter is allowed: the file does have a header row.
const CSV_CONTENT_TYPE = /^text\/csv; charset=utf-8(; header=present)?$/;
const NDJSON_CONTENT_TYPE = 'application/x-ndjson; charset=utf-8';

/** Items that exercise RFC 4180 quoting and the formula-injection prefix. */
const SPECIAL_ITEMS: NewExecutionItem[] = [
  {
    objectChangeType: 'Update',
    displayName: 'Smith, Jane',
    externalIdValue: 'X-comma',
    objectType: 'user',
    outcomes: [{ type: 'CsoUpdated' }],
  },
  {
    objectChangeType: 'Update',
    displayName: 'Jane "JJ" Smith',
    externalIdValue: 'X-quote',
    objectType: 'user',
  },
  {
    objectChangeType: 'Update',
    displayName: 'Line one\r\nLine two',
    externalIdValue: 'X-crlf',
    objectType: 'user',
  },
  { objectChangeType: 'Update', displayName: 'lone\nfeed', externalIdValue: 'X-lf', objectType: 'user' },
  { objectChangeType: 'Update', displayName: 'lone\rreturn', externalIdValue: 'X-cr', objectType: 'user' },
  { objectChangeType: 'Update', displayName: '"', externalIdValue: 'X-only-quote', objectType: 'user' },
  {
    objectChangeType: 'Update',
    displayName: '=HYPERLINK("http://evil.example","click")',
    externalIdValue: '=1+1',
    objectType: 'user',
  },
  {
    objectChangeType: 'Update',
    displayName: '+SUM(A1)',
    externalIdValue: '+44 20 7946 0000',
    objectType: 'user',
  },
  { objectChangeType: 'Update', displayName: '-2+3', externalIdValue: '-E900', objectType: 'user' },
  { objectChangeType: 'Update', displayName: '@SUM(A1:A9)', externalIdValue: 'X-at', objectType: '@type' },
  { objectChangeType: 'Update', displayName: '\tTabbed', externalIdValue: 'X-tab', objectType: 'user' },
  {
    objectChangeType: 'Update',
    displayName: '\rCarriage first',
    externalIdValue: 'X-cr-first',
    objectType: 'user',
  },
  {
    objectChangeType: 'Update',
    displayName: 'safe = not first, -x',
    externalIdValue: 'a=b',
    objectType: 'user',
  },
  {
    objectChangeType: 'Update',
    displayName: "'already quoted",
    externalIdValue: 'X-apostrophe',
    objectType: 'user',
  },
  {
    objectChangeType: 'Update',
    displayName: 'Ünïcödé 🦄 שלום',
    externalIdValue: 'X-unicode',
    objectType: 'user',
  },
  { objectChangeType: 'NoChange', displayName: '', externalIdValue: 'X-empty-name', objectType: 'user' },
  { objectChangeType: 'NoChange' },
  {
    objectChangeType: 'NoChange',
    displayName: 'Failing Export',
    externalIdValue: 'X-error',
    objectType: 'group',
    errorType: 'UnhandledError',
    errorMessage: '-1 is not a valid "count", really\r\nsecond line',
  },
  {
    objectChangeType: 'NoChange',
    displayName: 'Formula In Message',
    externalIdValue: 'X-error-formula',
    objectType: 'group',
    errorType: 'ExportConfirmationFailed',
    errorMessage: "=cmd|' /C calc'!A0",
  },
];

/** A field as README's CSV writes it: formula prefix for text, then quoting when needed. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A field's value once a CSV reader has unquoted it. */
function csvValue(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

interface CsvRecord {
  fields: string[];
  /** The record's text as sent, without its line end. */
  raw: string;
}

/**
 * A strict RFC 4180 reader: fields separated by commas, every record ended by CRLF, quoted fields
 * with doubled quotes inside; anything else (a bare CR or LF, a quote in an unquoted field, text
 * after a closing quote, a missing final CRLF) throws.
 */
function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i += 1;
        for (;;) {
          if (i >= text.length) throw new Error(`unterminated quoted field in the record at ${start}`);
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i += 1;
            break;
          }
          field += text[i];
          i += 1;
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new Error(`a quote inside an unquoted field at ${i}`);
          field += text[i];
          i += 1;
        }
      }
      fields.push(field);
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      if (text.startsWith('\r\n', i)) {
        records.push({ fields, raw: text.slice(start, i) });
        i += 2;
        break;
      }
      throw new Error(`expected "," or CRLF at ${i}, found ${JSON.stringify(text.slice(i, i + 20))}`);
    }
  }
  return records;
}

type ListedItem = {
  id: string;
  externalIdValue: string | null;
  displayName: string | null;
  connectedSystemObjectType: string | null;
  objectChangeType: string;
  errorType: string | null;
  outcomeSummary: string | null;
};

/** Compares row by row and reports the first row that differs. */
function expectSameRows(actual: readonly unknown[], expected: readonly unknown[]): void {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const first = expected.findIndex((row, index) => differs(actual[index], row));
  if (first !== -1)
    expect({ row: first, value: actual[first] }).toEqual({ row: first, value: expected[first] });
  expect(actual.length).toBe(expected.length);
}

describe('GET /api/v1/activities/{id}/items/export', () => {
  let t: TestApp;
  let runId: string;
  let written: WrittenItem[];
  let byId: Map<string, WrittenItem>;
  let specials: WrittenItem[];
  let namedRunId: string;
  let oddNamesRunId: string;
  let emptyRunId: string;
  const nonRunId = 'c0ffee00-1234-4abc-8def-0000000e4907';

  beforeAll(async () => {
    t = await createTestApp();
    runId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Full Sync',
        runType: 'FullSynchronisation',
      })
    ).id;
    const random = seededRandom(4242);
    const generated = Array.from({ length: 3000 }, (_, index) => syntheticItem(index + 1, random, 0.1));
    const head = await appendInBatches(t.runs, runId, generated.slice(0, 1500), 750);
    specials = await appendInBatches(t.runs, runId, SPECIAL_ITEMS);
    const tail = await appendInBatches(t.runs, runId, generated.slice(1500), 750);
    written = [...head, ...specials, ...tail];
    byId = new Map(written.map((item) => [item.id, item]));
    await t.runs.completeRun(runId, { status: 'CompleteWithError' });

    namedRunId = (
      await t.runs.startRun({
        connectedSystemName: 'HR-Feed',
        runProfileName: 'Full_Sync.v2',
        runType: 'FullImport',
      })
    ).id;
    await t.runs.appendItems(namedRunId, [{ objectChangeType: 'Add', displayName: 'Only One' }]);
    oddNamesRunId = (
      await t.runs.startRun({
        connectedSystemName: 'Sales "EMEA"/Paris; Zürich Łódź 東京',
        runProfileName: 'Export\r\nSet-Cookie: a=b',
        runType: 'Export',
      })
    ).id;
    emptyRunId = (
      await t.runs.startRun({ connectedSystemName: 'HR', runProfileName: 'Empty', runType: 'DeltaImport' })
    ).id;
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: nonRunId, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  /** GET with the whole body as text, whatever its content type. */
  const exportGet = (path: string, jwt: string | null = adminToken()) => {
    const req = request(t.http)
      .get(path)
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks).toString('utf8')));
      });
    return jwt === null ? req : req.set(bearer(jwt));
  };
  const exportOf = (activityId: string, query = '') =>
    exportGet(`/api/v1/activities/${activityId}/items/export${query ? `?${query}` : ''}`);
  const json = (res: { body: unknown }) => JSON.parse(res.body as string);

  /** Every item of the query, paging through the list with pageSize 100 as a script would. */
  const pagedCache = new Map<string, ListedItem[]>();
  async function pageThrough(query: ItemQuery): Promise<ListedItem[]> {
    const key = queryString(query);
    const cached = pagedCache.get(key);
    if (cached) return cached;
    const all: ListedItem[] = [];
    for (let page = 1; ; page++) {
      const res = await getAs(
        t.http,
        `/api/v1/activities/${runId}/items?${queryString(query, { pageSize: 100, page })}`,
      ).expect(200);
      all.push(...res.body.items);
      if (!res.body.hasNextPage) break;
    }
    // The list itself agrees with the README's rules applied to what was written.
    expect(all.map((item) => item.id)).toEqual(expectedItems(written, query).map((item) => item.id));
    pagedCache.set(key, all);
    return all;
  }

  /** An exported record's values, in column order, from a listed item and what was written. */
  const recordOf = (item: ListedItem): Array<string | number | null> => {
    const source = byId.get(item.id)!;
    return [
      source.sequence,
      item.id,
      item.externalIdValue,
      item.displayName,
      item.connectedSystemObjectType,
      item.objectChangeType,
      item.errorType,
      item.outcomeSummary,
      source.input.errorMessage ?? null,
    ];
  };

  describe('matches paging through the list with the same parameters, row by row', () => {
    const cases: Array<[string, ItemQuery]> = [
      ['no filter', {}],
      ['hasError=true by errorType', { hasError: true, sortBy: 'errorType' }],
      ['hasError=false in reverse', { hasError: false, sortDirection: 'desc' }],
      [
        'a search and an object type by displayName desc',
        { search: 'smith', objectType: ['user'], sortBy: 'displayName', sortDirection: 'desc' },
      ],
      [
        'outcome and change types by externalIdValue',
        {
          outcomeType: ['PendingExportCreated'],
          objectChangeType: ['Projected', 'PendingExport'],
          sortBy: 'externalIdValue',
        },
      ],
      [
        'two error types by objectType desc',
        { errorType: ['AmbiguousMatch', 'DuplicateObject'], sortBy: 'objectType', sortDirection: 'desc' },
      ],
      ['a search for a quote', { search: '"' }],
    ];

    it.each(cases)('CSV: %s', async (_label, query) => {
      const listed = await pageThrough(query);
      expect(listed.length).toBeGreaterThan(0);
      const res = await exportOf(runId, queryString(query)).expect(200);
      expect(res.headers['content-type']).toMatch(CSV_CONTENT_TYPE);
      const text = res.body as string;
      expect(text.startsWith(`${COLUMNS.join(',')}\r\n`)).toBe(true);
      const [header, ...rows] = parseCsv(text);
      expect(header.fields).toEqual([...COLUMNS]);
      expectSameRows(
        rows.map((row) => row.fields),
        listed.map((item) => recordOf(item).map(csvValue)),
      );
    });

    it.each(cases)('NDJSON: %s', async (_label, query) => {
      const listed = await pageThrough(query);
      const res = await exportOf(runId, queryString(query, { format: 'ndjson' })).expect(200);
      expect(res.headers['content-type']).toBe(NDJSON_CONTENT_TYPE);
      const text = res.body as string;
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      // Entries, so that the key order is compared as well as the values.
      expectSameRows(
        lines.map((line) => Object.entries(JSON.parse(line))),
        listed.map((item) => {
          const values = recordOf(item);
          return COLUMNS.map((column, index) => [column, values[index]]);
        }),
      );
    });
  });

  describe('CSV format', () => {
    let text: string;
    let records: CsvRecord[];

    beforeAll(async () => {
      const res = await exportOf(runId, 'format=csv').expect(200);
      text = res.body as string;
      records = parseCsv(text);
    });

    it('is the default format', async () => {
      const res = await exportOf(runId).expect(200);
      expect(res.headers['content-type']).toMatch(CSV_CONTENT_TYPE);
      expect(res.body).toBe(text);
    });

    it('has a header row, CRLF after every record and one record per item', () => {
      expect(records[0].raw).toBe(COLUMNS.join(','));
      expect(text.endsWith('\r\n')).toBe(true);
      expect(records).toHaveLength(written.length + 1);
    });

    it('quotes exactly the fields holding a comma, quote, CR or LF, doubles quotes, prefixes formulas', () => {
      const rawBySequence = new Map(records.slice(1).map((record) => [Number(record.fields[0]), record.raw]));
      for (const item of specials) {
        if (item.input.displayName === '') continue;
        const expected = [
          item.sequence,
          item.id,
          item.input.externalIdValue ?? null,
          item.input.displayName ?? null,
          item.input.objectType ?? null,
          item.input.objectChangeType,
          item.input.errorType ?? null,
          item.input.outcomes ? 'CsoUpdated:1' : null,
          item.input.errorMessage ?? null,
        ]
          .map(csvField)
          .join(',');
        expect({ displayName: item.input.displayName, raw: rawBySequence.get(item.sequence) }).toEqual({
          displayName: item.input.displayName,
          raw: expected,
        });
      }
    });

    it('writes these fields as written out by hand', () => {
      const raw = (externalIdValue: string) => {
        const item = specials.find((special) => special.input.externalIdValue === externalIdValue)!;
        return records
          .find((record) => record.fields[1] === item.id)!
          .raw.split(',')
          .slice(2)
          .join(',');
      };
      expect(raw('X-comma')).toBe('X-comma,"Smith, Jane",user,Update,,CsoUpdated:1,');
      expect(raw('X-quote')).toBe('X-quote,"Jane ""JJ"" Smith",user,Update,,,');
      expect(raw('X-crlf')).toBe('X-crlf,"Line one\r\nLine two",user,Update,,,');
      expect(raw('=1+1')).toBe(`'=1+1,"'=HYPERLINK(""http://evil.example"",""click"")",user,Update,,,`);
      expect(raw('-E900')).toBe(`'-E900,'-2+3,user,Update,,,`);
      expect(raw('X-at')).toBe(`X-at,'@SUM(A1:A9),'@type,Update,,,`);
      expect(raw('X-tab')).toBe(`X-tab,'\tTabbed,user,Update,,,`);
      expect(raw('X-cr-first')).toBe(`X-cr-first,"'\rCarriage first",user,Update,,,`);
      expect(raw('X-apostrophe')).toBe(`X-apostrophe,'already quoted,user,Update,,,`);
      expect(raw('X-error')).toBe(
        'X-error,Failing Export,group,NoChange,UnhandledError,,"\'-1 is not a valid ""count"", really\r\nsecond line"',
      );
    });

    it('writes a missing value as an empty field', () => {
      const bare = specials.find((item) => item.input.displayName === undefined)!;
      const record = records.find((candidate) => candidate.fields[1] === bare.id)!;
      expect(record.raw).toBe(`${bare.sequence},${bare.id},,,,NoChange,,,`);
    });

    it('names the file after the connected system, the run profile and the activity', async () => {
      const res = await exportOf(namedRunId).expect(200);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="HR-Feed-Full_Sync.v2-${namedRunId}.csv"`,
      );
      expect(res.body).toMatch(/^sequence,id,[^\r\n]*\r\n1,[0-9a-f-]{36},,Only One,,Add,,,\r\n$/);
    });

    it('reduces other characters in the names out of the file name', async () => {
      const res = await exportOf(oddNamesRunId).expect(200);
      const disposition = res.headers['content-disposition'] as string;
      const match = /^attachment; filename="([^"]*)"/.exec(disposition);
      expect(match).not.toBeNull();
      expect(match![1]).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(match![1]).toMatch(
        new RegExp(`^Sales[A-Za-z0-9._-]*EMEA[A-Za-z0-9._-]*-Export[A-Za-z0-9._-]*-${oddNamesRunId}\\.csv$`),
      );
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('answers only the header row when nothing matches, and for a run with no items', async () => {
      for (const [activityId, query] of [
        [runId, 'search=no-such-name-anywhere'],
        [emptyRunId, ''],
      ]) {
        const res = await exportOf(activityId, query).expect(200);
        expect(res.headers['content-type']).toMatch(CSV_CONTENT_TYPE);
        expect(res.body).toBe(`${COLUMNS.join(',')}\r\n`);
      }
    });
  });

  describe('NDJSON format', () => {
    it('carries every value unchanged, one object per line', async () => {
      const res = await exportOf(runId, 'format=ndjson&search=X-').expect(200);
      expect(res.headers['content-type']).toBe(NDJSON_CONTENT_TYPE);
      const lines = (res.body as string).split('\n');
      expect(lines.pop()).toBe('');
      const matching = expectedItems(written, { search: 'X-' });
      expect(matching.length).toBeGreaterThan(10);
      const expected = matching.map((item) => ({
        sequence: item.sequence,
        id: item.id,
        externalIdValue: item.input.externalIdValue ?? null,
        displayName: item.input.displayName ?? null,
        connectedSystemObjectType: item.input.objectType ?? null,
        objectChangeType: item.input.objectChangeType,
        errorType: item.input.errorType ?? null,
        outcomeSummary: item.input.outcomes ? 'CsoUpdated:1' : null,
        errorMessage: item.input.errorMessage ?? null,
      }));
      expect(lines.map((line) => JSON.parse(line))).toEqual(expected);
    });

    it('names the file like the CSV one, with the .ndjson extension', async () => {
      const res = await exportOf(namedRunId, 'format=ndjson').expect(200);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="HR-Feed-Full_Sync.v2-${namedRunId}.ndjson"`,
      );
      const lines = (res.body as string).split('\n');
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[0])).toMatchObject({
        sequence: 1,
        displayName: 'Only One',
        objectChangeType: 'Add',
      });
    });

    it('is empty when nothing matches', async () => {
      const res = await exportOf(emptyRunId, 'format=ndjson').expect(200);
      expect(res.headers['content-type']).toBe(NDJSON_CONTENT_TYPE);
      expect(res.body).toBe('');
    });
  });

  describe('errors, in the JSON envelope', () => {
    const expectJsonError = (res: { headers: Record<string, string>; body: unknown }) => {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      return json(res);
    };

    it.each<[string, string]>([
      ['page=1', 'page'],
      ['pageSize=100', 'pageSize'],
      ['cursor=abc', 'cursor'],
      ['format=csv&format=ndjson', 'format'],
      ['search=', 'search'],
      ['search=%00', 'search'],
      [`search=${'s'.repeat(257)}`, 'search'],
      [`objectType=${'t'.repeat(257)}`, 'objectType'],
      ['hasError=true&hasError=false', 'hasError'],
    ])('400 for %s, naming the parameter', async (query, param) => {
      const res = await exportOf(runId, query).expect(400);
      expect(expectJsonError(res)).toEqual(validationErrorNaming(param));
    });

    it('400 for a real cursor from the list', async () => {
      const listed = await getAs(t.http, `/api/v1/activities/${runId}/items?pageSize=2`).expect(200);
      const res = await exportOf(runId, `cursor=${encodeURIComponent(listed.body.nextCursor)}`).expect(400);
      expect(expectJsonError(res)).toEqual(validationErrorNaming('cursor'));
    });

    it.each<[string, string, readonly string[]]>([
      ['format=xml', 'format', ['csv', 'ndjson']],
      ['format=', 'format', ['csv', 'ndjson']],
      ['errorType=Bogus', 'errorType', ERROR_TYPES],
      ['sortBy=name', 'sortBy', SORT_BYS],
      ['sortDirection=up', 'sortDirection', ['asc', 'desc']],
      ['hasError=maybe', 'hasError', ['true', 'false']],
    ])('400 for %s, listing the accepted values', async (query, param, accepted) => {
      const res = await exportOf(runId, query).expect(400);
      expectAcceptedValuesError(expectJsonError(res), param, accepted);
    });

    it('400 for an unknown parameter', async () => {
      const res = await exportOf(runId, 'fromat=csv').expect(400);
      expect(expectJsonError(res)).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { fromat: ['is not a known parameter'] }),
      );
    });

    it('400 naming the id when it is not a GUID', async () => {
      const res = await exportGet('/api/v1/activities/not-a-guid/items/export').expect(400);
      expect(expectJsonError(res)).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { id: [GUID_MESSAGE] }),
      );
    });

    it('404 NOT_FOUND for an activity that does not exist', async () => {
      const res = await exportOf(MISSING_ID, 'format=ndjson').expect(404);
      expect(expectJsonError(res)).toEqual(activityNotFoundBody(MISSING_ID));
    });

    it('400 BAD_REQUEST for an activity that is not a run profile', async () => {
      const res = await exportOf(nonRunId).expect(400);
      expect(expectJsonError(res)).toEqual(notARunProfileBody(nonRunId));
    });

    it('401 UNAUTHORISED without a token, before anything else', async () => {
      for (const path of [
        `/api/v1/activities/${runId}/items/export`,
        `/api/v1/activities/${MISSING_ID}/items/export?format=xml`,
      ]) {
        const res = await exportGet(path, null).expect(401);
        expect(expectJsonError(res)).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it('403 FORBIDDEN without the Administrator role', async () => {
      const res = await exportGet(
        `/api/v1/activities/${runId}/items/export`,
        token({ role: 'Reader' }),
      ).expect(403);
      expect(expectJsonError(res)).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
    });
  });
});
