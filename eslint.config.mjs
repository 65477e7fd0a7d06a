// The house rules of design.md, enforced: layering between folders, one HTTP seam,
// and argv/env/exit codes only in the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vendorClients = {
  paths: [
    { name: '@elastic/elasticsearch', message: 'Only src/cluster/ talks to the cluster.' },
    { name: '@opensearch-project/opensearch', message: 'Only src/cluster/ talks to the cluster.' },
  ],
  patterns: [{ group: ['@elastic/transport', '@opensearch-project/opensearch/*'], message: 'Only src/cluster/ talks to the cluster.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.venv/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', vendorClients],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/cli/ reads the environment; pass values in.' },
        { object: 'process', property: 'argv', message: 'Only src/cli/ reads argv.' },
        { object: 'process', property: 'exit', message: 'Only src/cli/ sets the exit code.' },
        { object: 'process', property: 'exitCode', message: 'Only src/cli/ sets the exit code.' },
      ],
    },
  },
  {
    files: ['src/cluster/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/content/**/*.ts', 'src/plan/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...vendorClients,
          patterns: [
            ...vendorClients.patterns,
            { group: ['**/cluster', '**/cluster/*', '**/cli', '**/cli/*', '**/engine/*', '**/apply/*'], message: 'content/ and plan/ are pure.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Developer scripts run by node as CommonJS.
    files: ['scripts/**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read the engines' JSON answers, which have no static type.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
