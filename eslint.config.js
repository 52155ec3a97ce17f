// One linter and formatter for the project: ESLint with typescript-eslint (correctness) and
// @stylistic (formatting, autofixed by `npm run format`). Biome was the first choice, but the
// registry this project installs from lacks most of its platform binaries, which breaks `npm ci`.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

const noFocusedTests = ['describe', 'it', 'test'].flatMap((object) =>
  ['only', 'skip'].map((property) => ({ object, property, message: 'no focused or skipped tests' })),
);

const ONLY_DB = 'only functions/shared/db/ talks to DynamoDB: use a repository (and its named transaction parts)';
/** The DynamoDB SDK and the table's internals (client, expression helpers, key strings). */
const TABLE_INTERNALS = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/util-dynamodb',
  '**/shared/db/client.js',
  '**/shared/db/conditions.js',
  '**/shared/db/keys.js',
  '**/shared/db/table-schema.js',
  '**/shared/db/create-table.js',
  './client.js',
  './conditions.js',
  './keys.js',
];
/** Request fields and expression functions of DynamoDB, as property names or inside strings. */
const EXPRESSION_WORDS = '(Key)?Condition|Update|Filter|Projection';
const EXPRESSION_FUNCTIONS = '\\b(attribute_(not_)?exists|attribute_type|begins_with|if_not_exists|list_append)\\s*\\(';
const DYNAMODB_EXPRESSIONS = [
  `Property[key.name=/^(${EXPRESSION_WORDS})Expression$|^ExpressionAttribute(Names|Values)$|^TableName$/]`,
  `Property[key.value=/^(${EXPRESSION_WORDS})Expression$|^ExpressionAttribute(Names|Values)$|^TableName$/]`,
  `Literal[value=/${EXPRESSION_FUNCTIONS}/]`,
  `TemplateElement[value.raw=/${EXPRESSION_FUNCTIONS}/]`,
];

/**
 * Group boundaries (README "Architecture"): an endpoint group or job (`functions/<group>/`,
 * `functions/jobs/<job>/`) imports only its own folder, `functions/shared/` and the two declared
 * tables; `functions/shared/` imports no group. test/unit/architecture.test.ts proves the same on
 * the whole import graph (and that it has no cycle).
 */
const ROOT = dirname(fileURLToPath(import.meta.url));
const TABLES = new Set(['functions/route-table.ts', 'functions/jobs/job-table.ts']);
const repoPath = (file) => relative(ROOT, file).replaceAll('\\', '/').replace(/\.js$/, '.ts');
/** `admin`, `jobs/<job>`, `shared`, `table`, or null outside functions/. */
function areaOf(file) {
  if (TABLES.has(file)) return 'table';
  const [top, area, job, ...rest] = file.split('/');
  if (top !== 'functions' || job === undefined) return null;
  return area === 'jobs' && rest.length > 0 ? `jobs/${job}` : area;
}
const groupBoundaries = {
  meta: { type: 'problem', schema: [], docs: { description: 'a group imports only its own folder, functions/shared/ and the route/job tables' } },
  create(context) {
    const area = areaOf(repoPath(context.filename));
    if (area === null || area === 'table') return {};
    const check = (node) => {
      if (node?.type !== 'Literal' || typeof node.value !== 'string' || !node.value.startsWith('.')) return;
      const to = repoPath(resolve(dirname(context.filename), node.value));
      const target = areaOf(to);
      const allowed = area === 'shared' ? target === 'shared' : [area, 'shared', 'table'].includes(target);
      if (allowed) return;
      context.report({
        node,
        message:
          area === 'shared'
            ? `functions/shared/ may not import a group (${to})`
            : `the ${area} group may import only its own folder, functions/shared/ and the route/job tables, not ${to}: ` +
              'move what several groups share to functions/shared/ (shared behaviour to functions/shared/flows/)',
      });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

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
      'no-restricted-properties': ['error', ...noFocusedTests],
    },
  },
  // Only functions/shared/db/ builds DynamoDB requests (README "Architecture"): everything else
  // uses the repositories and their named transaction parts.
  {
    files: ['functions/**/*.ts'],
    ignores: ['functions/shared/db/**'],
    plugins: { architecture: { rules: { 'group-boundaries': groupBoundaries } } },
    rules: {
      'architecture/group-boundaries': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: TABLE_INTERNALS, message: ONLY_DB }] }],
      'no-restricted-properties': ['error', ...noFocusedTests, { object: 'config', property: 'tableName', message: ONLY_DB }],
      'no-restricted-syntax': ['error', ...DYNAMODB_EXPRESSIONS.map((selector) => ({ selector, message: ONLY_DB }))],
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
