import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REQUEST_ID_HEADER } from '../../platform/http/error-handler.js';
import { toHttpError } from '../../platform/http/errors.js';
import { bearerSecurity, type TrackingRoutesDeps } from './routes.js';
import { historyView, statsView, trackedView } from './views.js';

/** Chart size in SVG user units. */
const CHART_WIDTH = 600;
const CHART_HEIGHT = 160;

/** Text for HTML content or a quoted attribute: the five characters that can break out are escaped. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A whole page: plain, readable without CSS or scripts. `body` is HTML already escaped. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · paperbroker</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem}table{border-collapse:collapse}
th,td{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #ccc}td.num{text-align:right;font-variant-numeric:tabular-nums}</style>
</head>
<body>
<nav aria-label="tracking"><a href="/tracked">Tracked cryptos</a></nav>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

/**
 * An SVG polyline of prices given newest first, drawn oldest → newest from left to right. The
 * coordinates are for drawing only, so binary floats are fine here.
 */
export function priceChart(pricesNewestFirst: string[], label: string): string {
  const values = [...pricesNewestFirst].reverse().map(Number);
  if (values.length < 2) return '<p>The chart needs at least two prices.</p>';
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const points = values
    .map((value, i) => {
      const x = (i / (values.length - 1)) * CHART_WIDTH;
      const y = CHART_HEIGHT - ((value - min) / span) * CHART_HEIGHT;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return `<svg role="img" aria-label="${escapeHtml(label)}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" width="100%" height="${CHART_HEIGHT}">
<polyline fill="none" stroke="currentColor" stroke-width="2" points="${points}"/></svg>`;
}

/** A response of the document that is a page (a string: the handlers send HTML, nothing is serialized). */
function htmlPage(description: string) {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}

/**
 * Answers `error` as an error page (the pages' errors are pages too), with the request id; also
 * for the router's own errors on the pages' paths (a broken percent-encoding, an over-long symbol).
 */
export function sendPageError(reply: FastifyReply, error: unknown): FastifyReply {
  const httpError = toHttpError(error);
  const text = httpError.status === 401 ? 'Log in to see the tracked cryptos.' : httpError.message;
  reply.header(REQUEST_ID_HEADER, reply.request.id);
  return sendPage(reply, httpError.status, page(`Error ${httpError.status}`, `<p>${escapeHtml(text)}</p>`));
}

/**
 * Server-rendered pages of the tracked cryptos (seed 004's templates): the list, one crypto's
 * history with a small price chart, and its statistics. Authenticated like the API (the auth cookie
 * set at login, or a bearer token); errors are pages too. The full web front end is a later issue.
 */
export async function trackingPages(app: FastifyInstance, deps: TrackingRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('onRequest', deps.requireAuth);
  app.setErrorHandler((error, request, reply) => {
    if (toHttpError(error).status >= 500) request.log.error({ err: error }, 'tracking page failed');
    return sendPageError(reply, error);
  });
  const { tracking } = deps;
  const params = z.object({ symbol: z.string().max(32) });
  const tags = ['pages'];
  const list = { 200: htmlPage('the page'), 401: htmlPage('an error page: not signed in') };
  const onePage = {
    ...list,
    404: htmlPage('an error page: the symbol is not tracked'),
    422: htmlPage('an error page: the symbol is not one'),
    503: htmlPage('an error page: no price or coin name can be had now'),
  };

  r.get(
    '',
    { schema: { tags, summary: 'Tracked cryptos (HTML page)', security: bearerSecurity, response: list } },
    async (_request, reply) => {
      const rows = (await tracking.list()).map(trackedView);
      const body = rows.length
        ? `<table><caption>Current prices</caption>
<thead><tr><th scope="col">Symbol</th><th scope="col">Name</th><th scope="col">Price</th><th scope="col">Updated (UTC)</th><th scope="col">Details</th></tr></thead>
<tbody>${rows
            .map((c) => {
              const s = encodeURIComponent(c.symbol);
              return `<tr><td>${escapeHtml(c.symbol)}</td><td>${escapeHtml(c.name)}</td><td class="num">${escapeHtml(c.current_price)}</td><td>${escapeHtml(c.last_updated)}</td><td><a href="/tracked/${s}">history</a> · <a href="/tracked/${s}/stats">stats</a></td></tr>`;
            })
            .join('\n')}</tbody></table>`
        : '<p>No crypto is tracked yet.</p>';
      return sendPage(reply, 200, page('Tracked cryptos', body));
    },
  );

  r.get(
    '/:symbol',
    {
      schema: {
        tags,
        summary: 'A tracked crypto’s history with a chart (HTML page)',
        security: bearerSecurity,
        params,
        response: onePage,
      },
    },
    async (request, reply) => {
      const answer = await tracking.history(request.params.symbol);
      const { symbol, history } = historyView(answer.symbol, answer.history);
      const body = `${priceChart(
        history.map((p) => p.price),
        `${symbol} price, oldest to newest`,
      )}
<p><a href="/tracked/${encodeURIComponent(symbol)}/stats">Statistics</a></p>
<table><caption>Kept prices, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Price</th></tr></thead>
<tbody>${history.map((p) => `<tr><td>${escapeHtml(p.timestamp)}</td><td class="num">${escapeHtml(p.price)}</td></tr>`).join('\n')}</tbody></table>`;
      return sendPage(reply, 200, page(`${symbol} history`, body));
    },
  );

  r.get(
    '/:symbol/stats',
    {
      schema: {
        tags,
        summary: 'A tracked crypto’s statistics (HTML page)',
        security: bearerSecurity,
        params,
        response: onePage,
      },
    },
    async (request, reply) => {
      const view = statsView(await tracking.stats(request.params.symbol));
      const rows: [string, string][] = [
        ['Current price', view.current_price],
        ['Lowest', view.stats.min_price],
        ['Highest', view.stats.max_price],
        ['Average', view.stats.avg_price],
        ['Change (newest − oldest)', view.stats.price_change],
        ['Change %', view.stats.price_change_percent],
        ['Prices kept', String(view.stats.records_count)],
      ];
      const body = `<table><tbody>${rows
        .map(
          ([name, value]) =>
            `<tr><th scope="row">${escapeHtml(name)}</th><td class="num">${escapeHtml(value)}</td></tr>`,
        )
        .join('\n')}</tbody></table>
<p><a href="/tracked/${encodeURIComponent(view.symbol)}">History</a></p>`;
      return sendPage(reply, 200, page(`${view.symbol} statistics`, body));
    },
  );
}
