// ESLint (flat config): typescript-eslint's type-aware recommended rules on every TypeScript source
// (the construct, the handlers, the CLI, the scripts and the tests), and ESLint's recommended rules
// on the few plain JavaScript files. A rule that must be switched off for one line says so on that
// line with its reason; nothing is switched off for the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', '.bench/', 'test/integ/*.snapshot/', 'test/fixtures/', 'examples/dashboard/'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
