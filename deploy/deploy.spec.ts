import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Every app that runs as a process of its own must be deployable: in docker-compose.yml, in the
// Kubernetes base, and startable by the image. (tools/validate-deploy.sh checks the rendered
// overlays in depth; this runs without kustomize.)

const ROOT = join(__dirname, '..');
/** The embedded all-in-one launcher is not deployed as a process of its own. */
const NOT_DEPLOYED = new Set(['atrium']);

interface K8sObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
}

function yamlDocuments<T>(file: string): T[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((doc) => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJSON() as T;
  });
}

const deployedServices = readdirSync(join(ROOT, 'apps'), { withFileTypes: true })
  .filter(
    (d) =>
      d.isDirectory() && !NOT_DEPLOYED.has(d.name) && existsSync(join(ROOT, 'apps', d.name, 'src/main.ts')),
  )
  .map((d) => d.name)
  .sort();

function baseObjects(): K8sObject[] {
  const base = join(ROOT, 'deploy/base');
  const [kustomization] = yamlDocuments<{ resources: string[] }>(join(base, 'kustomization.yaml'));
  return kustomization.resources.flatMap((file) => yamlDocuments<K8sObject>(join(base, file)));
}

describe('deployment files', () => {
  it('finds the services to deploy in apps/', () => {
    expect(deployedServices).toEqual(
      expect.arrayContaining(['gateway', 'identity', 'issues', 'permissions', 'resources']),
    );
  });

  describe('docker-compose.yml', () => {
    const [compose] = yamlDocuments<{
      services: Record<string, { command?: string[]; depends_on?: object }>;
    }>(join(ROOT, 'docker-compose.yml'));

    it.each(deployedServices)('runs %s with its own command', (service) => {
      expect(compose.services[service]).toBeDefined();
      expect(compose.services[service].command).toEqual([service]);
    });

    it('runs the migration once before the RPC services start', () => {
      expect(compose.services.migrate?.command).toEqual(['migrate']);
      for (const service of deployedServices.filter((s) => s !== 'gateway'))
        expect(compose.services[service].depends_on).toMatchObject({
          migrate: { condition: 'service_completed_successfully' },
        });
    });
  });

  describe('deploy/base', () => {
    const objects = baseObjects();
    const named = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata?.name === name);

    it.each(deployedServices)('has a Deployment, Service, HPA and PDB for %s', (service) => {
      const name = `atrium-${service}`;
      expect(named('Deployment', name)?.spec?.template?.spec?.containers?.[0]?.args).toEqual([service]);
      for (const kind of ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'])
        expect(named(kind, name)).toBeDefined();
    });

    it('runs the migrations as a Job', () => {
      expect(named('Job', 'atrium-migrate')?.spec?.template?.spec?.containers?.[0]?.args).toEqual([
        'migrate',
      ]);
    });

    it('is the base of every overlay', () => {
      const overlays = readdirSync(join(ROOT, 'deploy/overlays'));
      expect(overlays).toEqual(expect.arrayContaining(['dev', 'prod']));
      for (const overlay of overlays) {
        const [kustomization] = yamlDocuments<{ resources: string[] }>(
          join(ROOT, 'deploy/overlays', overlay, 'kustomization.yaml'),
        );
        expect(kustomization.resources).toContain('../../base');
      }
    });
  });

  it.each(deployedServices)('builds an image that can start %s', (service) => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const targets = /^\s*gateway \| identity[^)]*\)/m.exec(dockerfile)?.[0] ?? '';
    expect(targets.split(/[\s|)]+/)).toContain(service);
  });
});
