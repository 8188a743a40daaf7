/**
 * The deployment files cannot drift from the program (issue 20 point 4): every command they give —
 * the image's CMD, the compose services' `command`, the Kubernetes containers' `args` — is a role the
 * program accepts, as the program itself says (its usage line, from a real run of `src/main.ts` with
 * a role it does not know), and every environment variable they set — the image's ENV, the compose
 * services' `environment`, the ConfigMap's and the Secret's keys, the containers' `env` — is one the
 * configuration schema (src/platform/config/env.ts) reads.
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLE_NAMES } from '../../src/platform/config/env.js';
import { ROLES } from '../../src/roles.js';
import { runProgram } from '../helpers/server-process.js';
import { asData, type Data, imageEnvironment, readRepoFile, readYamlDocuments } from './helpers.js';

/** Where each command and each variable was found, for the failure message. */
interface Found {
  where: string;
  value: string;
}

function kubernetesObjects(): { file: string; doc: Data }[] {
  const kustomization = asData(readYamlDocuments('deploy/k8s/kustomization.yaml')[0], 'kustomization');
  return (kustomization.resources as string[]).flatMap((file) =>
    readYamlDocuments(`deploy/k8s/${file}`).map((doc) => ({ file, doc: asData(doc, file) })),
  );
}

function commandsAndVariables(): { commands: Found[]; variables: Found[] } {
  const commands: Found[] = [];
  const variables: Found[] = [];
  const dockerfile = readRepoFile('Dockerfile');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  commands.push({ where: 'Dockerfile CMD', value: cmd.join(' ') });
  for (const name of Object.keys(imageEnvironment(dockerfile)))
    variables.push({ where: 'Dockerfile ENV', value: name });

  const compose = asData(readYamlDocuments('docker-compose.yml')[0], 'docker-compose.yml');
  for (const [name, raw] of Object.entries(asData(compose.services, 'services'))) {
    const service = asData(raw, name);
    if (service.image !== 'paperbroker:local') continue;
    commands.push({ where: `compose ${name}`, value: (service.command as string[]).join(' ') });
    for (const key of Object.keys(asData(service.environment, `${name} environment`)))
      variables.push({ where: `compose ${name}`, value: key });
  }

  for (const { file, doc } of kubernetesObjects()) {
    if (doc.kind === 'ConfigMap' || doc.kind === 'Secret') {
      const data = asData(doc.kind === 'Secret' ? doc.stringData : doc.data, file);
      for (const key of Object.keys(data)) variables.push({ where: `${file} ${doc.kind}`, value: key });
    }
    if (doc.kind !== 'Deployment' && doc.kind !== 'Job') continue;
    const template = asData(asData(doc.spec, file).template, file);
    for (const raw of asData(template.spec, file).containers as unknown[]) {
      const container = asData(raw, file);
      expect(container.command, `${file}: the image's entry point is kept`).toBeUndefined();
      commands.push({
        where: `${file} ${String(container.name)}`,
        value: (container.args as string[]).join(' '),
      });
      for (const env of (container.env as { name: string }[] | undefined) ?? [])
        variables.push({ where: `${file} ${String(container.name)}`, value: env.name });
    }
  }
  return { commands, variables };
}

describe('the deployment files and the program', () => {
  it('give only commands that are roles the program accepts', async () => {
    // The program's own list: what it prints for a role it does not know.
    const run = await runProgram(['no-such-role'], { PATH: process.env.PATH ?? '' });
    expect(run.exit).toBe('exit 1');
    const accepted = /^usage: paperbroker \[([a-z|]+)\]/.exec(run.stderr)?.[1]?.split('|');
    expect(accepted).toEqual([...ROLES]);

    const { commands } = commandsAndVariables();
    expect(commands.length).toBeGreaterThanOrEqual(7);
    const notRoles = commands.filter((c) => !accepted!.includes(c.value));
    expect(notRoles).toEqual([]);
    // Each long-running role is deployed, and the migration runs on its own.
    expect(new Set(commands.map((c) => c.value))).toEqual(new Set(['serve', 'worker', 'migrate']));
  });

  it('set only variables the configuration schema reads', () => {
    const { variables } = commandsAndVariables();
    expect(variables.length).toBeGreaterThan(10);
    expect(variables.filter((v) => !CONFIG_VARIABLE_NAMES.includes(v.value))).toEqual([]);
  });
});
