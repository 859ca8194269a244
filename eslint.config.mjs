// eslint.config.mjs - eslint (flat config, pinned in package.json) over the
// viewer's and the wall's modules in web/ and the node scripts that test
// them in tests/browser/. CTest runs it as `web_lint`; by hand:
//   npx eslint .
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['web/vendor/**', 'node_modules/**', 'build*/**', 'tests/out/**'] },
  js.configs.recommended,
  {
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        ...globals.browser,
        L: 'readonly', /* Leaflet (and geoman on it), from web/vendor, a classic script */
        mgrs: 'readonly', /* the mgrs package's browser build, from web/vendor */
        ms: 'readonly', /* milsymbol (2525D / APP-6 symbols), from web/vendor */
      },
    },
  },
  {
    files: ['tests/browser/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      /* node, and the browser for the functions a test runs in the page */
      globals: { ...globals.node, ...globals.browser },
    },
  },
  {
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-implicit-globals': 'error',
      'no-shadow': 'off',
    },
  },
];
