/** Unit specs sit beside the code; e2e specs under test/ boot the real app on a real database. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
};

module.exports = {
  // Booting an app on a fresh database takes seconds on 2 cores; hooks get the same allowance.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      // Every supertest response is also checked against the served OpenAPI document.
      moduleNameMapper: { '^supertest$': '<rootDir>/test/support/contract/supertest-with-contract.ts' },
      setupFilesAfterEnv: ['<rootDir>/test/support/contract/setup.ts'],
      // The OpenAPI document, and the embedded databases' templates (test/support/embedded-templates.ts).
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
