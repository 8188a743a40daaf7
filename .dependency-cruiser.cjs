/**
 * The module boundaries (STYLE.md §1, issue 16): checked by `npm run lint`.
 * Violations that were there when the check came in are listed in
 * `.dependency-cruiser-known-violations.json`: they fail nothing, any new one does.
 * Issue 16 removes them; regenerate the list with `npm run lint:deps:baseline` only to shrink it.
 */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-module',
      comment: 'the platform owns the process and never imports a feature module',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'shared-imports-up',
      comment: 'src/shared is leaf code',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/(platform|modules|compat)/' },
    },
    {
      name: 'module-imports-compat',
      comment: 'the seed adapters sit on top; no module depends on them',
      severity: 'error',
      from: { path: '^src/(modules|platform)/' },
      to: { path: '^src/compat/' },
    },
    {
      name: 'module-internals',
      comment: "a module reaches another only through that module's index.ts",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: '^src/modules/[^/]+/tables\\.ts$' },
      to: {
        path: '^src/modules/([^/]+)/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'],
      },
    },
    {
      // One database, one schema: a foreign key names the table it points to. A tables.ts may import
      // another module's tables.ts for that, and nothing else of it (an index.ts would load routes).
      name: 'tables-reference-tables-only',
      comment: "a module's tables.ts reaches another module only for its tables (foreign keys)",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/tables\\.ts$' },
      to: {
        path: '^src/modules/([^/]+)/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/tables\\.ts$'],
      },
    },
  ],
  options: {
    // type-only imports count too: a boundary holds for types as for code
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
