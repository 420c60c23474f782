import { defineConfig } from 'vitest/config';

/**
 * The browser tests: Playwright (playwright-core) drives Debian's Chromium against the built
 * service on PostgreSQL, with the demo data and a generated run of 100,000 items (see
 * e2e/global-setup.ts). Screenshots go to web/artifacts/screenshots/.
 */
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One browser and one service: the files run one after another.
    fileParallelism: false,
  },
});
