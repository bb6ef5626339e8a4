import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Every app that runs as a process of its own must be deployable: in docker-compose.yml, in the
// Kubernetes base, and startable by the image. (tools/validate-deploy.sh checks the rendered
// overlays in depth; this runs without kustomize.)

const ROOT = join(__dirname, '..');
/**
 * The embedded all-in-one launcher is not deployed as a process of its own; the CLI is a client
 * on users' machines (its `worker` included), like the console in a browser. The same list is in
 * deploy/validate/check-manifests.mjs.
 */
const NOT_DEPLOYED = new Set(['atrium', 'cli']);
/** The processes that sign or verify tokens: no other is given the key (libs/config). */
const READ_JWT_SECRET = ['gateway', 'identity'];

interface K8sObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { args?: string[]; env?: { name: string }[] }[] } } };
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
      services: Record<string, { command?: string[]; depends_on?: object; environment?: object }>;
    }>(join(ROOT, 'docker-compose.yml'));

    it('gives JWT_SECRET only to the services that read it', () => {
      const given = Object.keys(compose.services).filter(
        (name) => 'JWT_SECRET' in (compose.services[name].environment ?? {}),
      );
      expect(given.sort()).toEqual(READ_JWT_SECRET);
    });

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

    it('gives JWT_SECRET only to the services that read it', () => {
      const given = objects
        .filter((o) => o.kind === 'Deployment')
        .filter((o) =>
          o.spec?.template?.spec?.containers?.some((c) => c.env?.some((e) => e.name === 'JWT_SECRET')),
        )
        .map((o) => o.metadata?.name);
      expect(given.sort()).toEqual(READ_JWT_SECRET.map((s) => `atrium-${s}`));
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

  // The operators' custom resources against the operators' schemas (CloudNativePG's through
  // @kubernetes-models/cloudnative-pg, the RabbitmqCluster CRD vendored in deploy/validate/crds/),
  // by check-manifests.mjs with the validators tools/validate-deploy.sh installs; CI runs that
  // script before the tests. Each broken copy must be reported, the manifests as they are not.
  const validators = process.env.DEPLOY_VALIDATORS_DIR ?? join(ROOT, 'tmp/deploy-validators');
  const validatorsInstalled = ['kubernetes-models', '@kubernetes-models/cloudnative-pg', 'ajv'].every((p) =>
    existsSync(join(validators, 'node_modules', p, 'package.json')),
  );
  (validatorsInstalled ? describe : describe.skip)(
    'operator custom resources in deploy/overlays/prod',
    () => {
      type Resource = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
      const prod = (file: string) => yamlDocuments<Resource>(join(ROOT, 'deploy/overlays/prod', file))[0];
      const cluster = prod('postgres-cluster.yaml');
      const rabbitmq = prod('rabbitmq-cluster.yaml');
      const [podMonitor, rules] = yamlDocuments<Resource>(join(ROOT, 'deploy/overlays/prod/monitoring.yaml'));
      const scheduledBackup = prod('scheduled-backup.yaml');
      const recovery = yamlDocuments<Resource>(
        join(ROOT, 'deploy/restore/postgres-cluster-recovery.yaml'),
      )[0];
      // What breaks each copy: a value set at a path of its spec, and what must be reported.
      const broken: { resource: Resource; what: string; path: string[]; value: unknown; report: string }[] = [
        {
          resource: cluster,
          what: 'an unknown field',
          path: ['bogus'],
          value: true,
          report: 'unknown field .spec.bogus',
        },
        {
          resource: cluster,
          what: 'a nested unknown field',
          path: ['storage', 'sizee'],
          value: '1Gi',
          report: 'unknown field .spec.storage.sizee',
        },
        {
          resource: cluster,
          what: 'a wrong type',
          path: ['instances'],
          value: '3',
          report: '/spec/instances must be integer',
        },
        {
          resource: cluster,
          what: 'a value outside its enum',
          path: ['primaryUpdateStrategy'],
          value: 'whenever',
          report: '/spec/primaryUpdateStrategy must be equal to one of the allowed values',
        },
        {
          resource: cluster,
          what: 'a malformed backup retention',
          path: ['backup', 'retentionPolicy'],
          value: '30 days',
          report: '/spec/backup/retentionPolicy must match pattern',
        },
        {
          resource: cluster,
          what: 'a misspelt object-store credential',
          path: ['backup', 'barmanObjectStore', 's3Credential'],
          value: {},
          report: 'unknown field .spec.backup.barmanObjectStore.s3Credential',
        },
        {
          resource: cluster,
          what: 'an object store that is no URL',
          path: ['backup', 'barmanObjectStore', 'destinationPath'],
          value: 'atrium-backups',
          report: 'destinationPath must be an s3://, gs:// or https:// URL',
        },
        {
          resource: scheduledBackup,
          what: 'a five-field schedule (every minute to CloudNativePG)',
          path: ['schedule'],
          value: '0 3 * * *',
          report: 'spec.schedule must have six cron fields',
        },
        {
          resource: scheduledBackup,
          what: 'an unknown backup method',
          path: ['method'],
          value: 'tape',
          report: '/spec/method must be equal to one of the allowed values',
        },
        {
          resource: recovery,
          what: 'a misspelt recovery target',
          path: ['bootstrap', 'recovery', 'recoveryTarget', 'targetTme'],
          value: '2026-01-31 08:00:00+00',
          report: 'unknown field .spec.bootstrap.recovery.recoveryTarget.targetTme',
        },
        {
          resource: rabbitmq,
          what: 'an unknown field',
          path: ['bogus'],
          value: true,
          report: 'unknown field .spec.bogus',
        },
        {
          resource: rabbitmq,
          what: 'a nested unknown field',
          path: ['persistence', 'size'],
          value: '1Gi',
          report: 'unknown field .spec.persistence.size',
        },
        {
          resource: rabbitmq,
          what: 'a wrong type',
          path: ['replicas'],
          value: '3',
          report: '/spec/replicas must be integer',
        },
        {
          resource: rabbitmq,
          what: 'a malformed quantity',
          path: ['persistence', 'storage'],
          value: '20 gigs',
          report: '/spec/persistence/storage must match pattern',
        },
        {
          resource: rabbitmq,
          what: 'a value outside its enum',
          path: ['service', 'type'],
          value: 'Ingress',
          report: '/spec/service/type must be equal to one of the allowed values',
        },
        {
          resource: podMonitor,
          what: 'an unknown field',
          path: ['bogus'],
          value: true,
          report: 'unknown field .spec.bogus',
        },
        {
          resource: rules,
          what: 'a wrong type',
          path: ['groups'],
          value: 'atrium',
          report: '/spec/groups must be array',
        },
      ];
      const named = (i: number) => `${broken[i].resource.metadata.name}-broken-${i}`;
      let output = '';

      beforeAll(() => {
        const docs = [cluster, rabbitmq, podMonitor, rules, scheduledBackup, recovery];
        broken.forEach(({ resource, path, value }, i) => {
          const copy = JSON.parse(JSON.stringify(resource)) as Resource;
          copy.metadata.name = named(i);
          let at: Record<string, unknown> = copy.spec;
          for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
          at[path[path.length - 1]] = value;
          docs.push(copy);
        });
        const dir = mkdtempSync(join(tmpdir(), 'atrium-deploy-'));
        try {
          const file = join(dir, 'resources.yaml');
          writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n')); // JSON is YAML
          const run = spawnSync(
            process.execPath,
            [
              join(ROOT, 'deploy/validate/check-manifests.mjs'),
              '--models',
              validators,
              '--schemas-only',
              `prod=${file}`,
            ],
            { encoding: 'utf8' },
          );
          output = `${run.stdout}${run.stderr}`;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it("validates the kinds against the operators' schemas and accepts the manifests as they are", () => {
        expect(output).toContain(
          `postgresql.cnpg.io/v1 Cluster: 10 checked against @kubernetes-models/cloudnative-pg`,
        );
        expect(output).toContain(
          `postgresql.cnpg.io/v1 ScheduledBackup: 3 checked against @kubernetes-models/cloudnative-pg`,
        );
        expect(output).not.toContain(`ScheduledBackup/${scheduledBackup.metadata.name}:`);
        expect(output).not.toContain(`Cluster/${recovery.metadata.name}:`);
        expect(output).toContain(
          `rabbitmq.com/v1beta1 RabbitmqCluster: 6 checked against deploy/validate/crds/`,
        );
        expect(output).toContain(
          `monitoring.coreos.com/v1 PodMonitor: 2 checked against deploy/validate/crds/`,
        );
        expect(output).toContain(
          `monitoring.coreos.com/v1 PrometheusRule: 2 checked against deploy/validate/crds/`,
        );
        expect(output).not.toContain(`PodMonitor/${podMonitor.metadata.name}:`);
        expect(output).not.toContain(`PrometheusRule/${rules.metadata.name}:`);
        expect(output).not.toContain(`Cluster/${cluster.metadata.name}:`);
        expect(output).not.toContain(`RabbitmqCluster/${rabbitmq.metadata.name}:`);
      });

      it.each(broken.map(({ resource, what, report }, i) => [resource.kind, what, i, report] as const))(
        'rejects a %s with %s',
        (kind, _what, i, report) => {
          const reported = output.split('\n').filter((line) => line.includes(`${kind}/${named(i)}: `));
          expect(reported.join('\n')).toContain(report);
        },
      );
    },
  );

  describe('monitoring in the prod overlay', () => {
    type Alert = { alert: string; expr: string; annotations: { summary?: string; description?: string } };
    const [podMonitor, rules] = yamlDocuments<{
      spec: { podMetricsEndpoints?: { port: string }[]; groups?: { rules: Alert[] }[] };
    }>(join(ROOT, 'deploy/overlays/prod/monitoring.yaml'));
    const alerts = rules.spec.groups!.flatMap((g) => g.rules);
    /** The series the code defines (prom-client `name:`), histograms with their derived series. */
    const defined = new Set(
      ['libs/messaging/src/messaging-metrics.ts', 'apps/gateway/src/health/metrics.ts'].flatMap((file) =>
        [...readFileSync(join(ROOT, file), 'utf8').matchAll(/name: '(atrium_\w+)'/g)].flatMap(([, name]) => [
          name,
          `${name}_bucket`,
          `${name}_count`,
          `${name}_sum`,
        ]),
      ),
    );

    it('alerts on dead letters, outbox lag, RPC p99, the decision cache and growing queues', () => {
      expect(alerts.map((a) => a.alert).sort()).toEqual([
        'AtriumDeadLetterQueueNotEmpty',
        'AtriumDecisionCacheHitRatioLow',
        'AtriumOutboxLagHigh',
        'AtriumQueueDepthGrowing',
        'AtriumRpcLatencyP99High',
      ]);
    });

    it.each(alerts.map((a) => [a.alert, a] as const))(
      '%s reads series the code exports and says what to do',
      (_, alert) => {
        const series = [...alert.expr.matchAll(/\batrium_\w+/g)].map(([name]) => name);
        expect(series.length).toBeGreaterThan(0);
        for (const name of series) expect(defined).toContain(name);
        expect(alert.annotations.summary).toBeTruthy();
        expect(alert.annotations.description?.length).toBeGreaterThan(200);
      },
    );

    it('scrapes ports every service and the gateway expose', () => {
      const ports = new Map(
        baseObjects()
          .filter((o) => o.kind === 'Deployment')
          .map((o) => [
            o.metadata!.name!,
            (o.spec!.template!.spec!.containers![0] as { ports?: { name: string }[] }).ports?.map(
              (p) => p.name,
            ) ?? [],
          ]),
      );
      const scraped = podMonitor.spec.podMetricsEndpoints!.map((e) => e.port);
      for (const service of deployedServices)
        expect(ports.get(`atrium-${service}`)?.some((p) => scraped.includes(p))).toBe(true);
    });
  });

  it.each(deployedServices)('builds an image that can start %s', (service) => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const targets = /^\s*gateway \| identity[^)]*\)/m.exec(dockerfile)?.[0] ?? '';
    expect(targets.split(/[\s|)]+/)).toContain(service);
  });
});
