import { z } from 'zod';
import { idempotencyKeyHeader } from '../../platform/http/idempotency.js';
import { decimalOutput, positiveAmountInput } from '../../platform/http/schemas.js';

export const walletOutput = z
  .object({
    id: z.uuid(),
    name: z.string().meta({ example: 'Main' }),
    is_default: z.boolean(),
    balance: decimalOutput('available balance of the quote asset', '10000'),
    balances: z.array(
      z.object({
        asset: z.string().meta({ example: 'BTC' }),
        available: decimalOutput('spendable amount', '0.5'),
        locked: decimalOutput('amount held as margin or escrow', '0'),
      }),
    ),
    created_at: z.string(),
  })
  .meta({ id: 'Wallet' });

/** The caller's wallets: one page holds them all (`next_cursor` is always null). */
export const walletListOutput = z.object({
  items: z.array(walletOutput),
  next_cursor: z.string().nullable(),
});

export const createWalletBody = z.object({
  name: z.string().trim().min(1).max(64).meta({ example: 'Bot 1' }),
});

export const operationOutput = z
  .object({
    id: z.number().int().meta({ description: 'journal transaction id', example: 1 }),
    wallet_id: z.uuid(),
    operation_type: z.enum(['DEPOSIT', 'WITHDRAW']),
    asset: z.string().meta({ example: 'USDT' }),
    amount: decimalOutput('amount moved, in `asset`', '1000'),
    created_at: z.string(),
  })
  .meta({ id: 'WalletOperation' });

export const operationBody = z.object({
  operation_type: z.enum(['DEPOSIT', 'WITHDRAW']).meta({ description: 'money in or out (paper funding)' }),
  amount: positiveAmountInput.meta({
    description: 'decimal string or number, > 0, at most 8 decimals',
    example: '1000',
  }),
  asset: z
    .string()
    .regex(/^[A-Za-z0-9]{2,20}$/, 'must be 2–20 letters or digits, e.g. USDT')
    .optional()
    .meta({ description: 'defaults to the quote asset', example: 'USDT' }),
});

export const operationHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

export const historyOutput = z
  .object({
    id: z.number().int().meta({ description: 'journal transaction id' }),
    kind: z.string().meta({ example: 'deposit' }),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    entries: z.array(
      z.object({
        account_id: z.string().meta({ description: 'ledger account id' }),
        wallet_id: z.uuid().nullable().meta({ description: 'null for the broker’s system accounts' }),
        account: z.string().meta({
          description:
            'what the account is: "available" or "locked" for the wallet’s own; the system account’s name otherwise ("funding", "exchange", "fees", …)',
          example: 'available',
        }),
        asset: z.string(),
        amount: decimalOutput('signed: negative leaves the account', '-100'),
        balance_after: decimalOutput(
          'the account’s balance after this entry; null for system accounts',
          '900',
        ).nullable(),
      }),
    ),
  })
  .meta({ id: 'JournalTransaction' });

export const historyPageOutput = z.object({
  items: z.array(historyOutput),
  next_cursor: z.string().nullable(),
});

/** A wallet id that must be a UUID (a malformed one answers 422). */
export const walletIdParam = z.object({ wallet_id: z.uuid().meta({ description: 'wallet id (UUID)' }) });

/**
 * A wallet id of a read: any string up to 64 characters, so that a malformed id answers 404 like
 * any id that is not the caller's (SPEC §3 "Ids"), not 422.
 */
export const walletLookupParam = z.object({
  wallet_id: z.string().max(64).meta({ description: 'wallet id (UUID)' }),
});
