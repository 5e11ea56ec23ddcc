import tseslint from 'typescript-eslint';

/**
 * The src/domain/ files workflows may take values from: pure and deterministic. Not ids,
 * api-keys or signatures (node:crypto, Date.now), nor rate-limits (Date.now, state that
 * outlives a call). A new domain file is added here once it is known to be pure.
 */
const deterministicDomain = [
  'deposit-state',
  'dust',
  'errors',
  'events',
  'exchange',
  'failures',
  'fees',
  'idempotency',
  'mode',
  'money',
  'networks',
  'order-state',
  'permissions',
  'python-json',
  'transfers',
  'webhook-attempts',
  'webhook-schedule',
];

/** Every import source a workflow may take values from, as regular expressions of the whole source. */
const workflowImports = [
  '@temporalio/(workflow|common)(/.+)?',
  // The other files of src/workflows/, but not the client, which runs outside workflows.
  '\\./(?!client(\\.[jt]s)?$)[^/]+',
  `\\.\\./domain/(${deterministicDomain.join('|')})`,
];

export default tseslint.config(
  { ignores: ['node_modules/', '**/dist/', '.data/', '.tools/', 'coverage/'] },
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
    // Workflow code is replayed and must be deterministic: no I/O, no clock or randomness but
    // Temporal's, no activity implementations (side effects belong in activities). So its value
    // imports are an allowlist, not a denylist: a new folder elsewhere is out until listed here.
    files: ['src/workflows/**/*.ts', 'test/**/fixtures/**/*.workflow.ts'],
    // The one module in workflows/ that runs outside workflows: it starts them through the client.
    ignores: ['src/workflows/client.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Anything but these; `import type` from anywhere is fine (allowTypeImports).
              regex: `^(?!(${workflowImports.join('|')})$)`,
              caseSensitive: true,
              message:
                'Workflow code must be deterministic: values only from @temporalio/workflow, @temporalio/common, src/workflows/ (not ./client) ' +
                'and the domain files listed in eslint.config.mjs (types from anywhere). Do this in an activity.',
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
