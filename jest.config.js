// Two projects: `unit` needs no network; `integration` runs against a real engine that
// test/integration/global-setup.ts starts (or finds through CRYPTOCHANNEL_TEST_URL).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit', '<rootDir>/test/content'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/integration/support/leaves-installed.ts'],
      slowTestThreshold: 30,
    },
    {
      // The demo's HTML report in headless Chromium (/usr/bin/chromium, installed by .ci/run); no engine.
      displayName: 'browser',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/browser'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
  testTimeout: 120000,
  // One file at a time: the deployer test installs and uninstalls under the real names that the
  // ingest tests install through too; on a machine with more cores they would race.
  maxWorkers: 1,
};
