/** What `src/main.ts <role>` runs (SPEC §2): `all` is the default of `npm start`. */
export type Role = 'serve' | 'worker' | 'migrate' | 'all' | 'reconcile' | 'admin';

/**
 * Every role the program accepts. Kept apart from `main.ts` (which runs the program when imported)
 * so that the checks of the deployment files can read it: every command they give must be one.
 */
export const ROLES: readonly Role[] = ['serve', 'worker', 'migrate', 'all', 'reconcile', 'admin'];

/** Whether `name` is a role of the program. */
export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}
