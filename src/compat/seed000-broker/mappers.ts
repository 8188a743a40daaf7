import type { ErrorRenderer } from '../../platform/http/error-handler.js';

/**
 * Seed 000 is a FastAPI service: its errors are `{"detail": "text"}`, and its validation errors
 * FastAPI's `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` with status 422.
 */
export const renderSeed000Error: ErrorRenderer = (error) => {
  const fields = error.details?.fields;
  if (error.code === 'VALIDATION_ERROR' && Array.isArray(fields)) {
    return {
      detail: fields.map((f: { field: string; message: string }) => ({
        loc: f.field.split('.'),
        msg: f.message,
        type: 'value_error',
      })),
    };
  }
  return { detail: error.message };
};
