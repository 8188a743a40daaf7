/**
 * The example alerting rules (deploy/prometheus/alerts.yaml, docs/operations.md) name only metrics
 * the program exports, read from the process's own registry (the
 * modules that define metrics are imported, so every one is registered), so a renamed metric fails
 * here instead of leaving an alert that can never fire.
 */
import { describe, expect, it } from 'vitest';
import '../../src/modules/tracking/poll.job.js';
import { metricsRegistry } from '../../src/platform/observability/metrics.js';
import { asData, readYamlDocuments } from './helpers.js';

interface Rule {
  alert: string;
  expr: string;
}

function rules(): Rule[] {
  const file = asData(readYamlDocuments('deploy/prometheus/alerts.yaml')[0], 'alerts.yaml');
  return (file.groups as { rules: Rule[] }[]).flatMap((group) => group.rules);
}

describe('deploy/prometheus/alerts.yaml', () => {
  it('names only metrics the program exports', async () => {
    const exported = new Set(['up']);
    for (const metric of await metricsRegistry.getMetricsAsJSON()) {
      exported.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${metric.name}${suffix}`);
    }
    const all = rules();
    expect(all.length).toBeGreaterThan(8);
    // Every selector is written with braces (`metric{…}`), so this finds each metric an expression names.
    const named = all.flatMap((rule) =>
      [...rule.expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => ({ alert: rule.alert, metric: m[1]! })),
    );
    expect(named.length).toBeGreaterThanOrEqual(all.length);
    expect(named.filter((n) => !exported.has(n.metric))).toEqual([]);
    expect(new Set(all.map((r) => r.alert)).size).toBe(all.length);
  });
});
