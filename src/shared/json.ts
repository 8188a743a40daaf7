/**
 * JSON string literals and number literals, in order of appearance: a number token found by this
 * pattern is never inside a string.
 */
export const JSON_STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * `JSON.parse` with every number literal kept as the exact text the sender wrote (`67187.3358936566`
 * → `"67187.3358936566"`), so that a price an upstream sends as a JSON number never passes through a
 * binary double. Fields that are counts or ranks are coerced by their schemas.
 * @throws {SyntaxError} for text that is not JSON
 */
export function parseJsonNumbersAsText(text: string): unknown {
  return JSON.parse(
    text.replace(new RegExp(JSON_STRING_OR_NUMBER.source, 'g'), (token) =>
      token.startsWith('"') ? token : `"${token}"`,
    ),
  );
}

/**
 * A decimal string (`"46758.6"`, an amount or price of the ledger) as the JSON number a seed
 * contract shows. Only at a seed's edge: the value stays exact in the ledger, and a decimal of at
 * most 8 places prints back through the nearest double as the same decimal.
 */
export function decimalToJsonNumber(text: string): number {
  return Number(text);
}
