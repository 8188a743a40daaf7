/** Every table, for Drizzle's typed client and drizzle-kit. Modules own their tables. */
export * from '../../modules/auth/tables.js';
export * from '../../modules/bets/tables.js';
export * from '../../modules/ledger/tables.js';
export * from '../../modules/tracking/tables.js';
export * from '../../modules/trading/tables.js';
export * from '../../modules/users/tables.js';
export * from '../../modules/wallets/tables.js';
export * from '../http/idempotency-tables.js';
