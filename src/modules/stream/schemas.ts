import { z } from 'zod';

/** `?token=`: for a browser's WebSocket, which cannot set headers. */
export const tokenQuery = z
  .string()
  .max(4096)
  .optional()
  .meta({ description: 'the access token, where no header or cookie can carry it' });

export const streamQuery = z.object({ token: tokenQuery });

/** `channels` is comma-separated: the route takes 1 to 100 valid names. */
export const sseQuery = z.object({
  channels: z
    .string()
    .min(1)
    .max(8192)
    .meta({ description: 'comma-separated channel names', example: 'prices:BTCUSDT,account' }),
  token: tokenQuery,
});
