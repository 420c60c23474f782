import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { EMBEDDED_MAX_WAL_BYTES, openDatabase } from '../src/database/database-server';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { WAL_CHECK_INTERVAL_MS, walBytes } from '../src/database/wal-checkpoints';

/**
 * The embedded database in a folder on disk, as the service and the command-line tools keep it.
 * These tests use PGlite whatever DATABASE_URL says, so they run the same on both databases.
 */
// PGlite starts twice per case (initdb, then the database): minutes on a busy machine.
jest.setTimeout(600_000);

/** One WAL segment (PostgreSQL's default size): written into while the others are checkpointed away. */
const SEGMENT_BYTES = 16 * 1024 * 1024;

describe('the embedded database in a data directory', () => {
  let dataDir: string;
  const wal = () => walBytes(join(dataDir, 'pg_wal'));

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ei-embedded-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Opens the directory as the service does (checkpoints on), runs `work`, closes it. */
  async function opened<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const database = await openDatabase({ kind: 'embedded', dataDir });
    try {
      const dataSource = await new DataSource(buildTypeOrmOptions(database)).initialize();
      const stopCheckpoints = database.startCheckpoints(() => dataSource.query('CHECKPOINT'));
      try {
        return await work(dataSource);
      } finally {
        await stopCheckpoints();
        await dataSource.destroy();
      }
    } finally {
      await database.close();
    }
  }

  it('keeps pg_wal within max_wal_size while it writes more than that, and leaves one segment or less after closing', async () => {
    const written = await opened(async (dataSource) => {
      await dataSource.query('CREATE TABLE filler (id int, text text)');
      const lsn = async () =>
        Number((await dataSource.query("SELECT pg_current_wal_insert_lsn() - '0/0' AS lsn"))[0].lsn);
      const from = await lsn();
      // Rows of 1 KB (too short to be compressed), 16 MB a statement; after each, the check gets its turn.
      for (let round = 0; round < 12; round++) {
        await dataSource.query(
          `INSERT INTO filler SELECT n, repeat(md5(n::text), 32) FROM generate_series(1, 16000) AS n`,
        );
        await sleep(2 * WAL_CHECK_INTERVAL_MS);
        expect(wal()).toBeLessThanOrEqual(EMBEDDED_MAX_WAL_BYTES + 2 * SEGMENT_BYTES);
      }
      const [{ rows }] = await dataSource.query('SELECT count(*)::int AS rows FROM filler');
      expect(rows).toBe(12 * 16000);
      return (await lsn()) - from;
    });
    // WAL written: well over max_wal_size.
    expect(written).toBeGreaterThan(2 * EMBEDDED_MAX_WAL_BYTES);
    expect(wal()).toBeLessThanOrEqual(SEGMENT_BYTES);
    // The rows are there after a restart, from the tables rather than the WAL.
    const [{ rows }] = await opened((dataSource) =>
      dataSource.query('SELECT count(*)::int AS rows FROM filler'),
    );
    expect(rows).toBe(12 * 16000);
  });

  it('a first start creates the database in the directory; the next one opens it as it was', async () => {
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
    await opened((dataSource) => dataSource.query("CREATE TABLE kept AS SELECT 'still here' AS note"));
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await expect(opened((dataSource) => dataSource.query('SELECT note FROM kept'))).resolves.toEqual([
      { note: 'still here' },
    ]);
  });
});
