import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.tools/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed and must be deterministic: no Node built-ins, no I/O libraries,
    // no activity implementations. Side effects belong in activities.
    files: ['src/workflows/**/*.ts', 'test/**/fixtures/**/*.workflow.ts'],
    // The one module in workflows/ that runs outside workflows: it starts them through the client.
    ignores: ['src/workflows/client.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins,
            'pg',
            'kysely',
            'koa',
            '@koa/router',
            'pino',
            'ethers',
            'raw-body',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ].map((name) => ({ name, message: 'Workflow code must be deterministic: do this in an activity.', allowTypeImports: true })),
          patterns: [
            {
              // Types from anywhere are fine; values only from @temporalio/workflow, @temporalio/common and pure domain code.
              group: [
                '**/activities',
                '**/activities/**',
                '**/db/**',
                '**/api/**',
                '**/chains/**',
                '**/domain/ids',
                '**/domain/api-keys',
                '**/domain/signatures',
                '**/webhooks/**',
                '**/customers/**',
                '**/merchants/**',
                '**/deposits/**',
                '**/events/**',
                '**/balance/**',
                '**/prices',
                '**/config',
                '**/startup',
                '**/logger',
                '**/worker',
                '**/workflows/client',
                './client',
              ],
              message: 'Workflows may import only @temporalio/workflow, types and pure domain code.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop or a timer from @temporalio/workflow.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
