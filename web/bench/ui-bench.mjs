// The run viewer in Chromium on the 1M-item run on PostgreSQL: first rows visible after
// navigating to the run, scrolling to item 10,000 (frame rate, requests per page of rows), and
// the gzipped JavaScript the page loads. Writes web/bench/results/ui.md.
//
//   npm run build && npm run bench:ui        (BENCH_UI_DATABASE_URL, default ei_bench_ui on the local server)
//
// The database is made and the 1,000,000-item run generated (npm run generate, about 80 s) only
// when no run of that size is there yet; later runs reuse it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { chromium } from 'playwright-core';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(WEB, '..');
const ITEMS = Number(process.env.BENCH_UI_ITEMS ?? 1_000_000);
const DATABASE_URL = process.env.BENCH_UI_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ei_bench_ui';
const ROUNDS = Number(process.env.BENCH_UI_ROUNDS ?? 5);
const TARGET_ROW = 10_000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function query(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function ensureRun() {
  const admin = new URL(DATABASE_URL);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const exists = await query(admin.toString(), 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.length === 0) await query(admin.toString(), `CREATE DATABASE "${name}"`);
  const found = exists.length
    ? await query(DATABASE_URL, "SELECT id FROM activities WHERE item_count = $1 AND status <> 'InProgress' ORDER BY created DESC LIMIT 1", [ITEMS]).catch(() => [])
    : [];
  if (found.length) return found[0].id;
  process.stderr.write(`Generating a run of ${ITEMS} items into ${name} (about 80 s for a million)…\n`);
  const result = spawnSync('npm', ['run', '-s', 'generate', '--', '--items', String(ITEMS)], { cwd: ROOT, env: { ...process.env, DATABASE_URL }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error('npm run generate failed');
  await query(DATABASE_URL, 'VACUUM ANALYZE');
  return JSON.parse(result.stdout.trim().split('\n').pop()).activityId;
}

async function startService(secret) {
  const port = 3000 + Math.floor(Math.random() * 2000) + 2000;
  const child = spawn(process.execPath, ['dist/main'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), DATABASE_URL, AUTH_JWT_SECRET: secret, DEMO_DATA: 'false', RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', RETENTION_ENABLED: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, child };
    } catch {
      // not yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  child.kill();
  throw new Error('the service did not start');
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

function gzippedJs() {
  const assets = join(WEB, 'dist', 'assets');
  const files = readdirSync(assets).filter((file) => file.endsWith('.js'));
  const sizes = files.map((file) => {
    const content = readFileSync(join(assets, file));
    return { file, raw: content.length, gzip: gzipSync(content, { level: 9 }).length };
  });
  return { files: sizes, raw: sizes.reduce((sum, one) => sum + one.raw, 0), gzip: sizes.reduce((sum, one) => sum + one.gzip, 0) };
}

async function main() {
  const runId = await ensureRun();
  const secret = randomBytes(32).toString('base64url');
  const token = jwt.sign({ sub: 'bench-ui', role: 'Administrator' }, secret, { algorithm: 'HS256', expiresIn: '1h' });
  const service = await startService(secret);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const firstRows = [];
    const firstRowsWarm = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A new context each round: no cached assets, a fresh session (the /#token= link), as a first visit.
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const started = Date.now();
      await page.goto(`${service.url}/runs/${runId}#token=${token}`);
      await page.waitForSelector('[role="row"][data-index="0"]', { state: 'visible' });
      firstRows.push(Date.now() - started);
      // The same tab navigating again: assets cached, as when an administrator opens another run.
      const again = Date.now();
      await page.goto(`${service.url}/runs/${runId}?sortDirection=desc`);
      await page.waitForSelector('[role="row"][data-index="0"]', { state: 'visible' });
      firstRowsWarm.push(Date.now() - again);
      await context.close();
    }

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const itemRequests = [];
    page.on('request', (request) => {
      if (request.url().includes(`/activities/${runId}/items`)) itemRequests.push(request.url());
    });
    await page.goto(`${service.url}/runs/${runId}#token=${token}`);
    await page.waitForSelector('[role="row"][data-index="0"]', { state: 'visible' });
    // Scroll as a reader flinging the wheel: 600 px a frame, until row 10,000 is on screen.
    const scroll = await page.evaluate(async (target) => {
      const body = document.querySelector('.grid-body');
      const frames = [];
      const started = performance.now();
      let last = started;
      return new Promise((done) => {
        const step = (now) => {
          frames.push(now - last);
          last = now;
          const reached = body.querySelector(`[data-index="${target - 1}"]`);
          if (reached || now - started > 120_000) {
            done({ frames: frames.slice(1), ms: now - started, reached: Boolean(reached) });
            return;
          }
          body.scrollTop += 600;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      });
    }, TARGET_ROW);
    const rowsLoaded = Number((await page.locator('.items > .result-count').textContent()).match(/([\d,]+) loaded/)[1].replace(/,/g, ''));
    await context.close();

    const frameMs = scroll.frames;
    const js = gzippedJs();
    const result = {
      runId,
      items: ITEMS,
      firstRowsMs: { rounds: firstRows, median: median(firstRows), max: Math.max(...firstRows) },
      firstRowsCachedMs: { rounds: firstRowsWarm, median: median(firstRowsWarm) },
      scroll: {
        reached: scroll.reached,
        ms: Math.round(scroll.ms),
        frames: frameMs.length,
        fps: Math.round((frameMs.length / scroll.ms) * 1000 * 10) / 10,
        frameMsMedian: Math.round(median(frameMs) * 10) / 10,
        frameMsP95: Math.round(percentile(frameMs, 0.95) * 10) / 10,
        frameMsMax: Math.round(Math.max(...frameMs) * 10) / 10,
        framesOver50ms: frameMs.filter((ms) => ms > 50).length,
        itemRequests: itemRequests.length,
        rowsLoaded,
        rowsPerRequest: rowsLoaded / itemRequests.length,
      },
      js,
    };
    report(result);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await browser.close();
    service.child.kill('SIGTERM');
  }
}

function report(r) {
  const ok = (pass) => (pass ? 'met' : '**not met**');
  const lines = [
    '# Run viewer benchmark',
    '',
    `Written by \`npm run bench:ui\` on ${new Date().toISOString()}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Debian Chromium headless, the built service on PostgreSQL (rate limits off), a run of ${r.items.toLocaleString('en')} items.`,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| first rows visible after navigating to the run, new tab (median of ${r.firstRowsMs.rounds.length}; max) | ${r.firstRowsMs.median} ms; ${r.firstRowsMs.max} ms | under 1 s: ${ok(r.firstRowsMs.max < 1000)} |`,
    `| the same, assets cached (median) | ${r.firstRowsCachedMs.median} ms | |`,
    `| scrolling to item 10,000 (600 px a frame) | ${(r.scroll.ms / 1000).toFixed(1)} s, ${r.scroll.frames} frames, ${r.scroll.fps} fps; frame time median ${r.scroll.frameMsMedian} ms, p95 ${r.scroll.frameMsP95} ms, max ${r.scroll.frameMsMax} ms; ${r.scroll.framesOver50ms} frames over 50 ms | steady frame rate |`,
    `| item requests while scrolling | ${r.scroll.itemRequests} for ${r.scroll.rowsLoaded.toLocaleString('en')} rows (${r.scroll.rowsPerRequest} rows per request) | one per page of rows: ${ok(r.scroll.rowsPerRequest === 100)} |`,
    `| JavaScript, gzipped (level 9) | ${(r.js.gzip / 1024).toFixed(1)} KB (${(r.js.raw / 1024).toFixed(1)} KB raw, ${r.js.files.length} file${r.js.files.length === 1 ? '' : 's'}) | at most 200 KB: ${ok(r.js.gzip <= 200 * 1024)} |`,
    '',
    'First rows: from `page.goto` of `/runs/<id>` (the page, its script and style, `/ui-config.json`, the activity, the stats and the first 100 items) until row 1 is visible. Scrolling: `scrollTop` raised by 600 px in each animation frame until row 10,000 is rendered; the frame rate counts animation frames, the rows arrive by `nextCursor`, 100 per request, while the reader keeps scrolling (the grid grows as pages arrive, so the scroll waits at the end of what is loaded).',
    '',
  ];
  mkdirSync(join(WEB, 'bench', 'results'), { recursive: true });
  writeFileSync(join(WEB, 'bench', 'results', 'ui.md'), lines.join('\n'));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
