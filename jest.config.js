/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/global-setup.js',
  // Tests share one Redis and one machine; each test file uses its own key prefix and queue names.
  maxWorkers: 2,
};
