import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectAccessible, launch, newPage, screenshot, token } from './support/browser';

const DEMO_RUN = '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60';
const baseUrl = inject('baseUrl');
const secret = inject('secret');
const bigRunId = inject('bigRunId');

let browser: Browser;
let page: Page;
let problems: string[];
/** Every API call the page made, in order. */
let apiCalls: string[];
let closeContext: () => Promise<void>;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function signedIn(path = '/', claims?: Record<string, unknown>): Promise<void> {
  const opened = await newPage(browser);
  page = opened.page;
  problems = opened.problems;
  closeContext = () => opened.context.close();
  apiCalls = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) apiCalls.push(request.url());
  });
  await page.goto(`${baseUrl}${path}#token=${token(secret, claims)}`);
}

afterEach(async () => {
  await closeContext?.();
  // Nothing the user would see as broken: no CSP violation, no script error.
  expect(problems).toEqual([]);
});

const grid = () => page.getByRole('grid', { name: 'Items of the run' });
const rows = () => grid().locator('[role="row"][data-index]');
const cellTexts = (column: string) => rows().locator(`.col-${column}`).allTextContents();
const status = () => page.locator('.items > .result-count');

/** The API's own answer, to compare the screen with. */
async function apiGet<T>(path: string): Promise<T> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    headers: { Authorization: `Bearer ${token(secret)}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** The engine's write API, as a sync engine calls it. */
async function engine<T>(method: 'POST', path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token(secret, { role: 'SyncEngine' })}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return (await response.json()) as T;
}

interface NewItem {
  externalIdValue: string;
  displayName?: string;
  errorType?: string;
}

async function writeRun(
  system: string,
  items: NewItem[],
  complete: string | null = 'CompleteWithError',
): Promise<string> {
  const run = await engine<{ id: string }>('POST', '/activities', {
    connectedSystemName: system,
    runProfileName: 'Delta Synchronisation',
    runType: 'DeltaSynchronisation',
  });
  if (items.length) await addItems(run.id, items);
  if (complete) await engine('POST', `/activities/${run.id}/complete`, { status: complete });
  return run.id;
}

async function addItems(runId: string, items: NewItem[]): Promise<void> {
  await engine('POST', `/activities/${runId}/items`, {
    items: items.map((item) => ({
      objectChangeType: 'AttributeFlow',
      connectedSystemObjectType: 'user',
      displayName: item.displayName ?? `Person ${item.externalIdValue}`,
      ...item,
    })),
  });
}

describe('the run viewer in Chromium', () => {
  it('opens the demo run from the runs list; the /#token= fragment leaves the address bar at once', async () => {
    await signedIn('/');
    await expect.poll(() => page.url()).toBe(`${baseUrl}/`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const runRow = page.getByRole('row', { name: /HR Feed.*Full Synchronisation/ });
    await runRow.waitFor();
    await expect.poll(() => runRow.locator('td').nth(5).textContent()).toBe('248');
    await expect.poll(() => runRow.locator('td').nth(6).textContent()).toMatch(/^\d+$/);
    await screenshot(page, '01-runs');
    await expectAccessible(page, 'runs');

    await page.getByRole('link', { name: 'Full Synchronisation' }).click();
    await page.getByRole('heading', { name: /HR Feed.*Full Synchronisation/ }).waitFor();
    expect(page.url()).toBe(`${baseUrl}/runs/${DEMO_RUN}`);
    await expect.poll(() => status().textContent()).toBe('248 items; 100 loaded. Scroll for more.');
    expect((await cellTexts('displayName')).slice(0, 2)).toEqual(['Jane Smith', 'John Doe']);
    await screenshot(page, '02-run');
    await expectAccessible(page, 'run');
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  });

  it('filters by an error chip', async () => {
    await signedIn(`/runs/${DEMO_RUN}`);
    const chip = page.getByRole('button', { name: /^Duplicate object 5$/ });
    await chip.click();
    await expect.poll(() => chip.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => status().textContent()).toBe('5 items match; all loaded.');
    expect(await cellTexts('errorType')).toEqual(Array(5).fill('Duplicate object'));
    expect(new URL(page.url()).searchParams.getAll('errorType')).toEqual(['DuplicateObject']);
    await screenshot(page, '03-run-error-chip');
    // A second chip of another kind narrows (AND); pressing the first again lifts it.
    await page.getByRole('button', { name: /^user \d+$/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('objectType')).toEqual(['user']);
    await chip.click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('errorType')).toEqual([]);
  });

  it('searches "smith" after a pause in typing, and says so when nothing matches', async () => {
    await signedIn(`/runs/${DEMO_RUN}`);
    await status().filter({ hasText: '248 items' }).waitFor();
    const expected = await apiGet<{ totalCount: number; items: Array<{ displayName: string | null }> }>(
      `/activities/${DEMO_RUN}/items?search=smith&pageSize=100`,
    );
    await page.getByLabel('Search by name or external ID').fill('smith');
    await expect.poll(() => new URL(page.url()).searchParams.get('search')).toBe('smith');
    await expect.poll(() => status().textContent()).toBe(`${expected.totalCount} items match; all loaded.`);
    expect(await cellTexts('displayName')).toEqual(expected.items.map((item) => item.displayName ?? '—'));
    for (const name of await cellTexts('displayName')) expect(name.toLowerCase()).toContain('smith');
    await screenshot(page, '04-run-search');

    await page.getByLabel('Search by name or external ID').fill('nobody-is-called-this');
    await expect
      .poll(() => status().textContent())
      .toBe('No items match these filters and this search. Clear a filter or change the search to see more.');
    await screenshot(page, '05-run-search-empty');
    await expectAccessible(page, 'empty search');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => status().textContent()).toBe('248 items; 100 loaded. Scroll for more.');
  });

  it("opens an item's outcome tree, collapses and expands it", async () => {
    await signedIn(`/runs/${DEMO_RUN}`);
    await rows().filter({ hasText: 'John Doe' }).click();
    const panel = page.getByRole('complementary', { name: 'John Doe' });
    await panel.waitFor();
    const tree = panel.getByRole('tree', { name: 'Outcome tree' });
    await expect.poll(() => tree.getByRole('treeitem').allTextContents()).toHaveLength(4);
    const projected = tree.getByRole('treeitem').first();
    expect(await projected.getAttribute('aria-expanded')).toBe('true');
    expect(await tree.textContent()).toContain('8 details');
    expect(await tree.textContent()).toContain('→ Corporate LDAP');
    expect(await tree.textContent()).toContain('→ Microsoft Entra ID');
    await screenshot(page, '06-item-tree');
    await expectAccessible(page, 'item');
    await projected.locator('.tree-toggle').first().click();
    expect(await projected.getAttribute('aria-expanded')).toBe('false');
    expect(await tree.getByRole('treeitem').count()).toBe(1);
    await projected.locator('.tree-toggle').first().click();
    expect(await tree.getByRole('treeitem').count()).toBe(4);
    expect(new URL(page.url()).searchParams.get('item')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows an error item with its message and stack trace', async () => {
    await signedIn(`/runs/${DEMO_RUN}?hasError=true`);
    await rows().first().click();
    const panel = page.locator('aside.item-panel');
    await panel.getByRole('heading', { name: 'Error' }).waitFor();
    expect(await panel.locator('.error-message').textContent()).not.toBe('');
    await screenshot(page, '07-item-error');
  });

  it('sorts by display name from the column header, then the other way', async () => {
    await signedIn(`/runs/${DEMO_RUN}`);
    await status().filter({ hasText: '248 items' }).waitFor();
    const header = page.getByRole('columnheader', { name: /Display name/ });
    await header.getByRole('button').click();
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('ascending');
    const ascending = await apiGet<{ items: Array<{ displayName: string | null }> }>(
      `/activities/${DEMO_RUN}/items?sortBy=displayName&pageSize=100`,
    );
    await expect
      .poll(async () => (await cellTexts('displayName')).slice(0, 20))
      .toEqual(ascending.items.slice(0, 20).map((i) => i.displayName ?? '—'));
    const names = (await cellTexts('displayName')).slice(0, 20);
    expect([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))).toEqual(names);
    await header.getByRole('button').click();
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('descending');
    expect(new URL(page.url()).searchParams.get('sortDirection')).toBe('desc');
    await screenshot(page, '08-run-sorted');
  });

  it('exports the filtered items as CSV and NDJSON, and the files hold exactly those items', async () => {
    await signedIn(`/runs/${DEMO_RUN}?errorType=DuplicateObject`);
    await status().filter({ hasText: '5 items match' }).waitFor();
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe(`HR-Feed-Full-Synchronisation-${DEMO_RUN}.csv`);
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'sequence,id,externalIdValue,displayName,connectedSystemObjectType,objectChangeType,errorType,outcomeSummary,errorMessage',
    );
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(1)) expect(line).toContain(',DuplicateObject,');
    await page
      .getByRole('status')
      .filter({ hasText: /^Saved HR-Feed/ })
      .waitFor();

    const [ndjson] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export NDJSON' }).click(),
    ]);
    const records = readFileSync((await ndjson.path())!, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { errorType: string });
    expect(records.map((record) => record.errorType)).toEqual(Array(5).fill('DuplicateObject'));
    await screenshot(page, '09-run-exported');
  });

  it('gives the same view after a reload of a copied link, and in a new tab after signing in', async () => {
    const link = `/runs/${DEMO_RUN}?objectChangeType=Update&objectChangeType=Add&search=a&sortBy=displayName&sortDirection=desc`;
    await signedIn(link);
    await status()
      .filter({ hasText: /items match/ })
      .waitFor();
    const firstView = { status: await status().textContent(), names: await cellTexts('displayName') };
    const copied = page.url();
    expect(copied).toBe(`${baseUrl}${link}`);
    await page.reload();
    await status()
      .filter({ hasText: /items match/ })
      .waitFor();
    expect({ status: await status().textContent(), names: await cellTexts('displayName') }).toEqual(
      firstView,
    );
    expect(await page.getByLabel('Search by name or external ID').inputValue()).toBe('a');
    expect(await page.getByRole('button', { name: /^Update \d+$/ }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    expect(await page.getByRole('columnheader', { name: /Display name/ }).getAttribute('aria-sort')).toBe(
      'descending',
    );

    // A new tab has no session: it asks for a token, then shows the linked view.
    const other = await newPage(browser);
    await other.page.goto(copied);
    await other.page.getByLabel('Bearer token or API key').fill(token(secret));
    await other.page.getByRole('button', { name: 'Sign in with this token' }).click();
    await other.page
      .locator('.items > .result-count')
      .filter({ hasText: /items match/ })
      .waitFor();
    expect(await other.page.locator('.items > .result-count').textContent()).toBe(firstView.status);
    expect(other.page.url()).toBe(copied);
    expect(other.problems).toEqual([]);
    await other.context.close();
  });

  it('works from the keyboard alone: runs list, run, items, item tree and back', async () => {
    await signedIn('/');
    const runLink = page.getByRole('link', { name: 'Full Synchronisation' });
    await runLink.waitFor();
    for (let i = 0; i < 40 && !(await runLink.evaluate((link) => link === document.activeElement)); i++)
      await page.keyboard.press('Tab');
    expect(await runLink.evaluate((link) => link === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await status().filter({ hasText: '248 items' }).waitFor();

    const focusedRow = () => page.evaluate(() => document.activeElement?.getAttribute('data-index') ?? null);
    for (let i = 0; i < 80 && (await focusedRow()) === null; i++) await page.keyboard.press('Tab');
    expect(await focusedRow()).toBe('0');
    await page.keyboard.press('ArrowDown');
    expect(await focusedRow()).toBe('1');
    await page.keyboard.press('PageDown');
    const afterPage = Number(await focusedRow());
    expect(afterPage).toBeGreaterThan(5);
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    expect(await focusedRow()).toBe('1');
    await page.keyboard.press('Enter');
    const panel = page.getByRole('complementary', { name: 'John Doe' });
    await panel.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('item-title');
    const treeFocused = () => page.evaluate(() => document.activeElement?.getAttribute('role'));
    for (let i = 0; i < 20 && (await treeFocused()) !== 'treeitem'; i++) await page.keyboard.press('Tab');
    expect(await treeFocused()).toBe('treeitem');
    await page.keyboard.press('ArrowLeft');
    expect(await panel.getByRole('treeitem').count()).toBe(1);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Attribute flow');
    await screenshot(page, '10-keyboard-tree');
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.count()).toBe(0);
    expect(await focusedRow()).toBe('1');
  });

  it('a token without the Administrator role is told which role it lacks', async () => {
    await signedIn('/', { role: 'Reader' });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.locator('p').textContent()).toBe(
      'You are signed in, but your account does not have the Administrator role, which this needs. Ask whoever manages access to grant it, then sign in again.',
    );
    // No filters to offer someone the API refuses.
    expect(await page.getByRole('group', { name: 'Filter runs' }).count()).toBe(0);
    await screenshot(page, '11-forbidden');
    await expectAccessible(page, 'forbidden');
    await page.getByRole('button', { name: 'Sign in with another account' }).click();
    await page.getByRole('heading', { name: 'Sign in to the run history' }).waitFor();
  });

  it('an expired token signs in again, saying why', async () => {
    await signedIn(`/runs/${DEMO_RUN}`, { role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 3600 });
    await page.getByText('Your sign-in has expired or was not accepted. Please sign in again.').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/runs/${DEMO_RUN}`);
    await screenshot(page, '12-sign-in');
    await expectAccessible(page, 'sign-in');
  });

  it('scrolls the 100,000-item run by cursor to item 10,000: one request per 100 rows', async () => {
    await signedIn(`/runs/${bigRunId}`);
    await status().filter({ hasText: '100,000 items' }).waitFor();
    const loaded = async () =>
      Number((await status().textContent())?.match(/([\d,]+) loaded/)?.[1].replace(/,/g, '') ?? 0);
    const body = page.locator('.grid-body');
    const lastRendered = async () =>
      Math.max(
        ...(await rows().evaluateAll((all) => all.map((row) => Number(row.getAttribute('data-index'))))),
      );
    // Scroll on, as a reader does, until row 10,000 is on screen.
    while ((await lastRendered()) < 9_999) {
      const before = await lastRendered();
      await body.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
      await expect.poll(lastRendered, { timeout: 15_000 }).toBeGreaterThan(before);
    }
    const itemCalls = apiCalls.filter((url) => url.includes(`/activities/${bigRunId}/items`));
    // One request per 100 rows loaded, and at most the next page in flight.
    const pages = (await loaded()) / 100;
    expect(itemCalls.length).toBeGreaterThanOrEqual(pages);
    expect(itemCalls.length).toBeLessThanOrEqual(pages + 1);
    expect(itemCalls.slice(1).filter((url) => !/\/items\?cursor=[^&]+$/.test(url))).toEqual([]);
    expect(new Set(itemCalls).size).toBe(itemCalls.length);
    await screenshot(page, '13-big-run-item-10000');
  });

  it('follows a run in progress live: the count and the rows grow, and the status changes when it ends', async () => {
    const system = `Live Feed ${Date.now()}`;
    const runId = await writeRun(
      system,
      [1, 2, 3].map((n) => ({ externalIdValue: `L${n}` })),
      null,
    );
    await signedIn(`/runs/${runId}`);
    const live = page.locator('.live-indicator');
    await expect.poll(() => live.textContent(), { timeout: 15_000 }).toMatch(/^● Following live: 3 items$/);
    await expect.poll(() => status().textContent()).toBe('3 items; all loaded.');
    await screenshot(page, '14-live');
    await expectAccessible(page, 'live');

    await addItems(runId, [
      { externalIdValue: 'L4' },
      { externalIdValue: 'L5', errorType: 'UnresolvedReference' },
    ]);
    await expect
      .poll(() => live.textContent(), { timeout: 15_000 })
      .toBe('● Following live: 5 items, 1 with errors');
    await expect.poll(() => status().textContent(), { timeout: 15_000 }).toBe('5 items; all loaded.');
    expect(await cellTexts('displayName')).toEqual([
      'Person L1',
      'Person L2',
      'Person L3',
      'Person L4',
      'Person L5',
    ]);
    expect(apiCalls.filter((url) => url.includes(`/activities/${runId}/items/stream`))).toHaveLength(1);

    await engine('POST', `/activities/${runId}/complete`, { status: 'CompleteWithError' });
    const facts = page.locator('.run-header .facts');
    await expect
      .poll(() => facts.locator('.badge').textContent(), { timeout: 15_000 })
      .toBe('Complete with error');
    await expect.poll(() => live.count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Unresolved reference 1$/ }).count()).toBe(1);
  });

  it('a failed stream reconnects, says so meanwhile, and then follows live', async () => {
    const runId = await writeRun(
      `Reconnect Feed ${Date.now()}`,
      [1, 2].map((n) => ({ externalIdValue: `R${n}` })),
      null,
    );
    await signedIn('/');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    // The first stream request fails as an overloaded service answers; the next goes through.
    let failed = 0;
    await page.route('**/items/stream*', async (route) => {
      if (failed++ > 0) return route.fallback();
      await route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          code: 'SERVICE_UNAVAILABLE',
          message: 'Busy.',
          details: null,
          validationErrors: null,
        }),
      });
      await page.unroute('**/items/stream*');
    });
    await page.evaluate((path) => {
      window.history.pushState(null, '', path);
      window.dispatchEvent(new Event('run-viewer:navigated'));
    }, `/runs/${runId}`);
    const live = page.locator('.live-indicator');
    await expect
      .poll(() => live.textContent(), { timeout: 10_000 })
      .toMatch(/^Reconnecting: 2 items\. .*Trying again in 1 s\.$/);
    await expect.poll(() => live.textContent(), { timeout: 15_000 }).toBe('● Following live: 2 items');
    expect(failed).toBeGreaterThanOrEqual(1);
    await addItems(runId, [{ externalIdValue: 'R3' }]);
    await expect.poll(() => status().textContent(), { timeout: 15_000 }).toBe('3 items; all loaded.');
    await engine('POST', `/activities/${runId}/complete`, { status: 'Complete' });
    await expect.poll(() => live.count(), { timeout: 15_000 }).toBe(0);
    // The 503 the test answered shows up as a failed resource in the console; nothing else may.
    const asked = (problem: string) => problem.includes('status of 503');
    problems.splice(0, problems.length, ...problems.filter((problem) => !asked(problem)));
  });

  it('lists the changes since the previous run with their counts; a chip filters; no earlier run says so', async () => {
    const system = `Diff System ${Date.now()}`;
    const baselineId = await writeRun(system, [
      { externalIdValue: 'E1', errorType: 'UnresolvedReference' },
      { externalIdValue: 'E2', errorType: 'UnresolvedReference' },
      { externalIdValue: 'E3', errorType: 'DuplicateObject' },
      { externalIdValue: 'E4' },
      { externalIdValue: 'E5', errorType: 'UnresolvedReference' },
    ]);
    const runId = await writeRun(system, [
      { externalIdValue: 'E1', errorType: 'UnresolvedReference' },
      { externalIdValue: 'E2' },
      { externalIdValue: 'E3', errorType: 'CsoCreationFailed' },
      { externalIdValue: 'E4', errorType: 'UnresolvedReference' },
      { externalIdValue: 'E6', errorType: 'DuplicateObject' },
    ]);

    await signedIn(`/runs/${runId}`);
    await page.getByRole('link', { name: 'Changes since the previous run' }).click();
    await page.getByRole('heading', { name: 'Changes since the previous run' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/runs/${runId}/changes`);
    const result = page.locator('.changes-page .result-count');
    await expect.poll(() => result.textContent()).toBe('6 objects; all shown.');
    const chips = page.getByRole('group', { name: 'Filter by change' }).getByRole('button');
    expect(await chips.allTextContents()).toEqual([
      'New error 2',
      'Resolved 1',
      'Changed error 1',
      'Still failing 1',
      'Not seen 1',
    ]);
    const diffRows = page.locator('.diff-table tbody tr');
    const column = (name: string) => diffRows.locator(`.col-${name}`).allTextContents();
    expect(await column('externalIdValue')).toEqual(['E4', 'E6', 'E2', 'E3', 'E1', 'E5']);
    expect(await column('change')).toEqual([
      'New error',
      'New error',
      'Resolved',
      'Changed error',
      'Still failing',
      'Not seen',
    ]);
    expect(await column('current')).toEqual([
      'Unresolved reference',
      'Duplicate object',
      'No error',
      'CSO creation failed',
      'Unresolved reference',
      'Not seen',
    ]);
    expect(await column('baseline')).toEqual([
      'No error',
      'Not seen',
      'Unresolved reference',
      'Duplicate object',
      'Unresolved reference',
      'Unresolved reference',
    ]);
    expect(await page.locator('.changes-baseline a').getAttribute('href')).toBe(`/runs/${baselineId}`);
    await screenshot(page, '15-changes');
    await expectAccessible(page, 'changes');

    await page.getByRole('button', { name: /^New error 2$/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('change')).toEqual(['NewError']);
    await expect.poll(() => result.textContent()).toBe('2 objects; all shown.');
    expect(await column('externalIdValue')).toEqual(['E4', 'E6']);
    expect(await page.getByRole('button', { name: /^New error 2$/ }).getAttribute('aria-pressed')).toBe(
      'true',
    );

    // The baseline has no earlier run of its own.
    await page.locator('.changes-baseline a').click();
    await page.getByRole('link', { name: 'Changes since the previous run' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/runs/${baselineId}/changes`);
    await page
      .getByText(
        'There is no earlier completed run of this system, run profile and run type to compare with.',
      )
      .waitFor();
    await expectAccessible(page, 'no baseline');
    // The 404 the test asked for shows up as a failed resource in the console; nothing else may.
    const asked = (problem: string) =>
      problem.includes('status of 404') && problem.includes(`/activities/${baselineId}/diff`);
    expect(problems.filter(asked).length).toBeGreaterThan(0);
    problems.splice(0, problems.length, ...problems.filter((problem) => !asked(problem)));
  });
});
