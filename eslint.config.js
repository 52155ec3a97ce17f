// One linter and formatter for the project: ESLint with typescript-eslint (correctness) and
// @stylistic (formatting, autofixed by `npm run format`). Biome was the first choice, but the
// registry this project installs from lacks most of its platform binaries, which breaks `npm ci`.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'cdk.out.*/', 'coverage/', '.tmp/', '.local-data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  stylistic.configs.customize({ indent: 2, quotes: 'single', semi: true, commaDangle: 'always-multiline', braceStyle: '1tbs', arrowParens: true }),
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@stylistic/max-len': ['error', { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true, ignoreRegExpLiterals: true }],
      '@stylistic/operator-linebreak': 'off',
      '@stylistic/multiline-ternary': 'off',
      '@stylistic/indent-binary-ops': 'off',
      '@stylistic/quote-props': ['error', 'consistent-as-needed'],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true }],
      // Focused or skipped tests must never land (STYLE.md habit 11).
      'no-restricted-properties': [
        'error',
        ...['describe', 'it', 'test'].flatMap((object) =>
          ['only', 'skip'].map((property) => ({ object, property, message: 'no focused or skipped tests' })),
        ),
      ],
    },
  },
  {
    // The console's JSX: inline text runs and one-line props stay readable; wrapping each would not.
    files: ['functions/console/app/**/*.ts', 'functions/console/app/**/*.tsx'],
    rules: {
      '@stylistic/jsx-one-expression-per-line': 'off',
      '@stylistic/jsx-curly-newline': 'off',
      '@stylistic/max-len': ['error', { code: 220, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }],
    },
  },
);
