/**
 * The Kubernetes manifests of deploy/k8s, checked without a cluster (issue 20 points 3 and 4).
 * - Schema: every object is validated against the OpenAPI schema of Kubernetes v1.33 as the npm
 *   package kubernetes-models 4.5.1 compiles it (types, required fields, enums, formats such as
 *   quantities). That schema lets unknown fields through (a misspelt `readinesProbe` would pass),
 *   so each object is also type-checked by TypeScript against the same package's declarations, whose
 *   excess-property check names any field Kubernetes does not have (what kubeconform's -strict does).
 * - Kustomization: it lists every manifest of the folder, and only files that exist.
 * - Shape: what docs/operations.md promises — probes on the program's own health routes and ports,
 *   requests and limits, a non-root read-only container without privilege escalation, the HPA on the
 *   API alone, selectors that match, a grace period longer than the shutdown, and a configuration the
 *   program itself accepts (loadConfig on the image's ENV + the ConfigMap + the Secret's keys).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/env.js';
import { REPO_ROOT } from '../helpers/server-process.js';
import { asData, type Data, imageEnvironment, readRepoFile, readYamlDocuments } from './helpers.js';

const K8S_DIR = 'deploy/k8s';

interface Manifest {
  file: string;
  doc: Data;
  apiVersion: string;
  kind: string;
  name: string;
}

function kustomization(): Data {
  return asData(readYamlDocuments(`${K8S_DIR}/kustomization.yaml`)[0], 'kustomization.yaml');
}

/** Every object of the kustomization's resources, in order. */
function manifests(): Manifest[] {
  const resources = kustomization().resources as string[];
  return resources.flatMap((file) =>
    readYamlDocuments(`${K8S_DIR}/${file}`).map((raw) => {
      const doc = asData(raw, file);
      const metadata = asData(doc.metadata, `${file} metadata`);
      return {
        file,
        doc,
        apiVersion: String(doc.apiVersion),
        kind: String(doc.kind),
        name: String(metadata.name),
      };
    }),
  );
}

function byKind(kind: string): Manifest[] {
  return manifests().filter((m) => m.kind === kind);
}

/** The pod template of a Deployment or a Job. */
function podSpecOf(m: Manifest): Data {
  const template = asData(asData(m.doc.spec, m.name).template, `${m.name} template`);
  return asData(template.spec, `${m.name} pod spec`);
}

function containersOf(m: Manifest): Data[] {
  return (podSpecOf(m).containers as unknown[]).map((c) => asData(c, `${m.name} container`));
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function templateLabels(m: Manifest): Record<string, string> {
  const template = asData(asData(m.doc.spec, m.name).template, m.name);
  return asData(template.metadata, m.name).labels as Record<string, string>;
}

describe('deploy/k8s against the Kubernetes v1.33 OpenAPI schemas', () => {
  it('lists every manifest of the folder in its kustomization, and only files that exist', () => {
    const listed = (kustomization().resources as string[]).toSorted();
    const present = fs
      .readdirSync(path.join(REPO_ROOT, K8S_DIR))
      .filter((file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml')
      .toSorted();
    expect(listed).toEqual(present);
    expect(kustomization().namespace).toBe('paperbroker');
  });

  it('validates every object against its schema (kubernetes-models 4.5.1)', async () => {
    const all = manifests();
    expect(all.map((m) => m.kind).toSorted()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'Namespace',
        'PodDisruptionBudget',
        'PodDisruptionBudget',
        'Secret',
        'Service',
      ].toSorted(),
    );
    const failures: string[] = [];
    for (const m of all) {
      const specifier = `kubernetes-models/${m.apiVersion}/${m.kind}`;
      const module = (await import(/* @vite-ignore */ specifier)) as Record<
        string,
        new (
          data: unknown,
        ) => { validate(): void }
      >;
      const Model = module[m.kind]!;
      try {
        new Model(m.doc).validate();
      } catch (error) {
        failures.push(`${m.file} ${m.kind}/${m.name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('has no field that Kubernetes does not know (TypeScript excess-property check on the same models)', () => {
    const all = manifests();
    const lines = [
      ...new Set(
        all.map((m) => `import type { I${m.kind} } from 'kubernetes-models/${m.apiVersion}/${m.kind}';`),
      ),
      ...all.map(
        (m, i) =>
          `// ${m.file} ${m.kind}/${m.name}\nexport const m${i}: I${m.kind} = ${JSON.stringify(m.doc)};`,
      ),
    ];
    const fileName = path.join(REPO_ROOT, 'test/deploy/__manifests__.ts');
    const source = lines.join('\n');
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: [],
      lib: ['lib.es2022.d.ts'],
    };
    const host = ts.createCompilerHost(options);
    const readSource = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language, ...rest) =>
      name === fileName ? ts.createSourceFile(name, source, language) : readSource(name, language, ...rest);
    const program = ts.createProgram([fileName], options, host);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
      const owner = line > 0 ? source.split('\n')[line - 1] : '';
      return `${owner}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('deploy/k8s as the operations guide describes it', () => {
  const dockerfile = readRepoFile('Dockerfile');
  const image = imageEnvironment(dockerfile);

  it('runs every pod as a non-root user, read-only, with no privilege escalation or capability', () => {
    for (const m of [...byKind('Deployment'), ...byKind('Job')]) {
      const pod = podSpecOf(m);
      expect(pod.securityContext, m.name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken, m.name).toBe(false);
      for (const container of containersOf(m)) {
        expect(container.securityContext, `${m.name}/${container.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
        // The only writable place: tsx's compile cache in /tmp, an emptyDir.
        expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
        expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
        const resources = asData(container.resources, `${m.name} resources`);
        for (const bound of ['requests', 'limits'])
          expect(Object.keys(asData(resources[bound], bound)).toSorted(), `${m.name} ${bound}`).toEqual([
            'cpu',
            'memory',
          ]);
        expect(container.image, m.name).toBe('paperbroker:0.1.0');
      }
    }
    const namespace = byKind('Namespace')[0]!;
    expect(asData(namespace.doc.metadata, 'namespace').labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    expect(kustomization().images).toEqual([{ name: 'paperbroker', newTag: '0.1.0' }]);
  });

  it('probes each Deployment on the health routes of the port its role listens on', () => {
    const portOfRole: Record<string, string | undefined> = { serve: image.PORT, worker: image.WORKER_PORT };
    const deployments = byKind('Deployment');
    expect(deployments.map((d) => containersOf(d)[0]!.args)).toEqual([['serve'], ['worker']]);
    for (const m of deployments) {
      const container = containersOf(m)[0]!;
      const role = (container.args as string[])[0]!;
      const ports = (container.ports as { name: string; containerPort: number }[]) ?? [];
      expect(
        ports.map((p) => String(p.containerPort)),
        m.name,
      ).toEqual([portOfRole[role]]);
      for (const [probe, route] of [
        ['startupProbe', '/health/live'],
        ['livenessProbe', '/health/live'],
        ['readinessProbe', '/health/ready'],
      ] as const) {
        const httpGet = asData(asData(container[probe], `${m.name} ${probe}`).httpGet, probe);
        expect(httpGet.path, `${m.name} ${probe}`).toBe(route);
        expect(httpGet.port, `${m.name} ${probe}`).toBe(ports[0]!.name);
      }
      expect(asData(m.doc.spec, m.name).selector).toEqual({ matchLabels: templateLabels(m) });
    }
  });

  it('gives the shutdown more time than SHUTDOWN_TIMEOUT_MS, with a configuration the program accepts', () => {
    const config = asData(byKind('ConfigMap')[0]!.doc.data, 'configmap data') as Record<string, string>;
    const secretKeys = Object.keys(asData(byKind('Secret')[0]!.doc.stringData, 'secret'));
    // The Secret is a template: stand-ins of the right form for its values.
    const standIns: Record<string, string> = {
      DATABASE_URL: 'postgres://paperbroker:secret@postgres.example:5432/paperbroker',
      REDIS_URL: 'rediss://:secret@redis.example:6379',
      JWT_SECRET: 'x'.repeat(32),
      COINMARKETCAP_API_KEY: '',
    };
    expect(secretKeys.toSorted()).toEqual(Object.keys(standIns).toSorted());
    const parsed = loadConfig({ ...image, ...config, ...standIns });
    expect(parsed.nodeEnv).toBe('production');
    for (const m of [...byKind('Deployment')]) {
      const graceMs = Number(podSpecOf(m).terminationGracePeriodSeconds) * 1000;
      expect(graceMs, m.name).toBeGreaterThan(parsed.shutdownTimeoutMs + 5_000);
    }
    // Without its secret values, the program refuses to start, naming them, rather than run on defaults.
    expect(() => loadConfig({ ...image, ...config, DATABASE_URL: '', JWT_SECRET: '' })).toThrow(
      /JWT_SECRET: is required.*DATABASE_URL: is required/,
    );
  });

  it('autoscales the API alone; its Service and disruption budgets select the pods they mean', () => {
    const [api, worker] = byKind('Deployment');
    expect(api!.name).toBe('paperbroker-api');
    expect(worker!.name).toBe('paperbroker-worker');
    // The HPA owns the API's replica count; the worker's is fixed (its jobs run once cluster-wide).
    expect(asData(api!.doc.spec, 'api').replicas).toBeUndefined();
    expect(asData(worker!.doc.spec, 'worker').replicas).toBe(2);
    const hpas = byKind('HorizontalPodAutoscaler');
    expect(hpas.map((h) => asData(h.doc.spec, 'hpa').scaleTargetRef)).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'paperbroker-api' },
    ]);
    const service = asData(byKind('Service')[0]!.doc.spec, 'service');
    expect(labelsMatch(service.selector as Record<string, string>, templateLabels(api!))).toBe(true);
    expect(labelsMatch(service.selector as Record<string, string>, templateLabels(worker!))).toBe(false);
    expect((service.ports as Data[]).map((p) => p.targetPort)).toEqual(['http']);
    const budgets = byKind('PodDisruptionBudget').map((p) => asData(p.doc.spec, p.name));
    const selects = (budget: Data, m: Manifest) =>
      labelsMatch(
        asData(budget.selector, 'selector').matchLabels as Record<string, string>,
        templateLabels(m),
      );
    expect(budgets.map((b) => [selects(b, api!), selects(b, worker!)])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('migrates in a Job of the pre-rollout phase, with the namespace, configuration and secret it needs', () => {
    const job = byKind('Job')[0]!;
    expect(containersOf(job).map((c) => c.args)).toEqual([['migrate']]);
    expect(podSpecOf(job).restartPolicy).toBe('Never');
    const preRollout = manifests()
      .filter((m) => asData(m.doc.metadata, m.name).labels)
      .filter(
        (m) =>
          (asData(m.doc.metadata, m.name).labels as Record<string, string>)['paperbroker.io/phase'] ===
          'pre-rollout',
      )
      .map((m) => m.kind);
    expect(preRollout.toSorted()).toEqual(['ConfigMap', 'Job', 'Namespace', 'Secret']);
  });
});
