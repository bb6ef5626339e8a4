// Checks the rendered Kubernetes manifests and docker-compose.yml; run by tools/validate-deploy.sh.
//
//   node deploy/validate/check-manifests.mjs [--models DIR] [--schemas-only] NAME=RENDERED.yaml ...
//                                            [--compose FILE]
//
// For every rendered overlay: each YAML document parses and names its apiVersion, kind and
// metadata.name; built-in kinds validate against the Kubernetes OpenAPI schemas compiled into the
// `kubernetes-models` package (installed under DIR by the script; types, required fields, enums)
// and carry no field those schemas do not define; the operators' custom resources validate the
// same way against their own schemas: CloudNativePG (postgresql.cnpg.io) with the
// `@kubernetes-models/cloudnative-pg` package, the RabbitMQ Cluster Operator's RabbitmqCluster
// with its CRD's openAPIV3Schema (vendored under deploy/validate/crds/, checked with ajv, unknown
// fields rejected as the API server's structural schemas do); references resolve (Service and PDB
// selectors, HPA targets, NetworkPolicy selectors, Ingress backends, ConfigMaps, Secrets, $(VAR)
// expansions); every service in apps/ has its Deployment, Service, HPA and PDB; secrets are never
// literal. --schemas-only stops after the per-document checks (for files that are not a whole
// overlay). For docker-compose.yml: every service in apps/ is there, with its command, and
// secrets come only from interpolated variables. Exits 1 listing every problem found.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * Apps that are not deployed as a process of their own: the embedded all-in-one launcher, and the
 * CLI (a client on users' machines, its `worker` included). deploy/deploy.spec.ts keeps the same list.
 */
const NOT_DEPLOYED = new Set(['atrium', 'cli']);
const MIGRATE = 'migrate';
/**
 * Secrets the manifests read but never define: created with `kubectl create secret` (see
 * deploy/README.md) or by the operators of the prod overlay (CloudNativePG: `<cluster>-app`,
 * RabbitMQ: `<cluster>-default-user`, checked against the CRs when those are rendered).
 */
const EXTERNAL_SECRETS = new Set([
  'atrium-jwt',
  'atrium-tls',
  'atrium-backup-s3',
  'atrium-postgres-app',
  'atrium-rabbitmq-default-user',
]);
/** Environment variables whose value is a secret: only ever from a Secret. */
const SECRET_ENV = /SECRET|PASSWORD|PASSWD|TOKEN|DATABASE_URL|_KEY$/;
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
]);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);
const notes = [];

export function deployedServices() {
  return readdirSync(join(ROOT, 'apps'), { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() && !NOT_DEPLOYED.has(d.name) && existsSync(join(ROOT, 'apps', d.name, 'src/main.ts')),
    )
    .map((d) => d.name)
    .sort();
}

function parseAll(file, label) {
  const docs = [];
  // merge: docker-compose.yml shares settings through YAML merge keys (<<).
  YAML.parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).forEach((doc, i) => {
    if (doc.errors.length) {
      for (const e of doc.errors) problem(`${label} document ${i + 1}`, `YAML error: ${e.message}`);
      return;
    }
    const value = doc.toJSON();
    if (value !== null && value !== undefined) docs.push(value);
  });
  return docs;
}

const id = (o) => `${o?.kind ?? '?'}/${o?.metadata?.name ?? '?'}`;
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(
    ([k, v]) => labels && Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v,
  );

// ---- schema: kubernetes-models (types, required fields, enums) + strict fields from its .d.ts ----

/** API groups whose kinds another package of kubernetes-models provides, laid out the same way. */
const MODEL_PACKAGES = { 'postgresql.cnpg.io': '@kubernetes-models/cloudnative-pg' };
/** CustomResourceDefinitions (YAML) whose openAPIV3Schema validates their kinds. */
const CRD_DIR = join(ROOT, 'deploy/validate/crds');

class Schemas {
  constructor(modelsDir) {
    this.modules = join(modelsDir, 'node_modules');
    this.pkg = join(this.modules, 'kubernetes-models');
    this.groups = new Map(Object.entries(MODEL_PACKAGES).map(([g, name]) => [g, join(this.modules, name)]));
    this.interfaces = new Map();
    for (const dir of [this.pkg, ...this.groups.values()])
      if (!existsSync(dir)) throw new Error(`${relative(this.modules, dir)} not found under ${modelsDir}`);
    this.crds = new CrdSchemas(this.modules);
    this.objectMeta = join(this.modules, '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta');
  }

  /** "name version" of an installed package, for the report. */
  label(dir) {
    const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return `${name} ${version}`;
  }

  modelFile(apiVersion, kind, ext) {
    const pkg = this.groups.get(apiVersion.split('/')[0]) ?? this.pkg;
    const file = join(pkg, apiVersion.includes('/') ? apiVersion : `v1`, `${kind}${ext}`);
    return apiVersion === 'v1' || apiVersion.includes('/') ? file : null;
  }

  /** Validates one object; returns where its schema came from, or null when none is known. */
  async validate(obj, where) {
    const crd = this.crds.get(obj);
    if (crd) {
      crd.check(obj, where);
      // The CRD leaves metadata to the API server, which checks it as an ObjectMeta.
      if (obj.metadata !== undefined)
        await this.model(obj.metadata, this.objectMeta, 'ObjectMeta', where, '.metadata');
      return crd.label;
    }
    const js = this.modelFile(obj.apiVersion, obj.kind, '.js');
    if (!js || !existsSync(js)) return null;
    await this.model(obj, js.slice(0, -'.js'.length), obj.kind, where, '');
    return this.label(this.groups.get(obj.apiVersion.split('/')[0]) ?? this.pkg);
  }

  /** Checks a value against the model in BASE.js (its JSON schema) and BASE.d.ts (its fields). */
  async model(value, base, name, where, path) {
    const mod = await import(pathToFileURL(`${base}.js`).href);
    const Model = mod[name];
    try {
      new Model(value).validate();
    } catch (err) {
      const details = (err.errors ?? []).map(
        (e) => `${path.replace(/\./g, '/')}${e.instancePath || (path ? '' : '/')} ${e.message}`,
      );
      problem(where, `schema: ${details.length ? details.join('; ') : err.message}`);
    }
    this.strict(value, `${base}.d.ts`, where, path);
  }

  /** Property names and referenced interface files of the first interface declared in a .d.ts. */
  interfaceOf(dts) {
    if (this.interfaces.has(dts)) return this.interfaces.get(dts);
    let result = null;
    this.interfaces.set(dts, result); // a cycle of `extends` ends here
    if (existsSync(dts)) {
      const text = readFileSync(dts, 'utf8');
      const imports = new Map();
      for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1], m[2]);
      const body = /^export interface \w+(?: extends ([\w, ]+))? \{\n([\s\S]*?)^\}/m.exec(text);
      if (body) {
        result = new Map();
        // Inherited properties (CloudNativePG's types extend each other; TypeMeta is declared anyway).
        for (const parent of (body[1] ?? '').split(/,\s*/)) {
          const from = imports.get(parent);
          for (const [key, ref] of (from && this.interfaceOf(this.resolveImport(dts, from))) ?? [])
            result.set(key, ref);
        }
        // One property per line at this indentation; inline object types (maps) span lines.
        for (const m of body[2].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
          const ref = /^(?:Array<)?(I\w+)>?;$/.exec(m[2].trim());
          const from = ref && imports.get(ref[1]);
          result.set(m[1], from ? this.resolveImport(dts, from) : null);
        }
      }
    }
    this.interfaces.set(dts, result);
    return result;
  }

  resolveImport(fromDts, specifier) {
    const bare = specifier.replace(/\.js$/, '');
    if (bare.startsWith('.')) return `${resolve(dirname(fromDts), bare)}.d.ts`;
    return `${join(this.modules, bare)}.d.ts`;
  }

  strict(value, dts, where, path) {
    if (value === null || typeof value !== 'object' || !dts) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.strict(item, dts, where, `${path}[${i}]`));
      return;
    }
    const props = this.interfaceOf(dts);
    if (!props) return; // a type alias (IntOrString, Quantity, ...) or a free-form object
    for (const [key, child] of Object.entries(value)) {
      if (!props.has(key)) problem(where, `schema: unknown field ${path}.${key}`);
      else this.strict(child, props.get(key), where, `${path}.${key}`);
    }
  }
}

// ---- schema: CustomResourceDefinitions (openAPIV3Schema, checked with ajv) ----

/**
 * A CRD's openAPIV3Schema as the API server applies it. Its schemas are structural: a field an
 * object schema does not declare is pruned, or rejected by kubectl's (default) strict field
 * validation, unless the schema says x-kubernetes-preserve-unknown-fields or is a map
 * (additionalProperties). So every object schema with properties and neither of those gets
 * additionalProperties: false; an embedded resource keeps apiVersion, kind and metadata. The
 * x-kubernetes-* keywords are otherwise annotations for ajv (strict mode off);
 * x-kubernetes-int-or-string comes with its own anyOf. Collects the formats used into FORMATS.
 */
function structuralSchema(schema, formats = new Set()) {
  if (Array.isArray(schema)) return schema.map((s) => structuralSchema(s, formats));
  if (schema === null || typeof schema !== 'object') return schema;
  const out = { ...schema };
  if (typeof out.format === 'string') formats.add(out.format);
  if (typeof out.pattern === 'string' && out.pattern.includes('(?i)'))
    out.pattern = caseless(out.pattern.replace('(?i)', ''));
  if (out.properties)
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([k, v]) => [k, structuralSchema(v, formats)]),
    );
  for (const k of ['items', 'additionalProperties', 'not'])
    if (out[k] && typeof out[k] === 'object') out[k] = structuralSchema(out[k], formats);
  for (const k of ['allOf', 'anyOf', 'oneOf'])
    if (Array.isArray(out[k])) out[k] = out[k].map((s) => structuralSchema(s, formats));
  if (out['x-kubernetes-embedded-resource'] === true)
    out.properties = {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      ...out.properties,
    };
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

/**
 * A Go (RE2) pattern's `(?i)` flag, which JavaScript patterns lack, spelled out: each letter
 * outside a class becomes `[xX]`, and a class gets both cases of its letters and ranges.
 */
function caseless(pattern) {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      out += c + (pattern[++i] ?? '');
    } else if (c === '[') {
      let end = i + 1;
      while (end < pattern.length && pattern[end] !== ']') end += pattern[end] === '\\' ? 2 : 1;
      const body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      const items = negated ? body.slice(1) : body;
      out += `[${negated ? '^' : ''}${items}${items.toUpperCase()}${items.toLowerCase()}]`;
      i = end;
    } else {
      out += /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
    }
  }
  return out;
}

const intFormat = (bits) => ({
  type: 'number',
  validate: (n) => Number.isInteger(n) && n >= -(2 ** (bits - 1)) && n <= 2 ** (bits - 1) - 1,
});
/** The formats Kubernetes checks that CRDs use; any other format is accepted as it stands. */
const CRD_FORMATS = {
  int32: intFormat(32),
  int64: intFormat(64),
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
};

/** "/spec/tolerations/0/key" as ".spec.tolerations[0].key", the style of the other messages. */
const fieldPath = (pointer) =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('');

class CrdSchemas {
  constructor(modules) {
    const require = createRequire(join(modules, 'noop.js'));
    const ajvModule = require('ajv');
    const Ajv = ajvModule.default ?? ajvModule;
    this.ajv = new Ajv({ strict: false, allErrors: true, formats: CRD_FORMATS });
    this.kinds = new Map();
    const files = existsSync(CRD_DIR)
      ? readdirSync(CRD_DIR)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
      : [];
    for (const file of files) {
      const text = readFileSync(join(CRD_DIR, file), 'utf8');
      // The provenance comment names the upstream repository and commit.
      const from = /^# +repository: +(\S+)[\s\S]*?^# +commit: +([0-9a-f]{40})/m.exec(text);
      const label = `${relative(ROOT, join(CRD_DIR, file))}${from ? ` (${from[1]} ${from[2].slice(0, 12)})` : ''}`;
      for (const doc of YAML.parseAllDocuments(text)) {
        const crd = doc.toJSON();
        if (doc.errors.length || crd?.kind !== 'CustomResourceDefinition')
          throw new Error(`${label}: not a CustomResourceDefinition`);
        for (const version of crd.spec?.versions ?? []) {
          const schema = version.schema?.openAPIV3Schema;
          if (!version.served || !schema) continue;
          const formats = new Set();
          const structural = structuralSchema(schema, formats);
          for (const f of formats) if (!(f in CRD_FORMATS)) this.ajv.addFormat(f, true);
          const validate = this.ajv.compile(structural);
          this.kinds.set(`${crd.spec.group}/${version.name}:${crd.spec.names.kind}`, {
            label,
            check: (obj, where) => this.check(validate, obj, where),
          });
        }
      }
    }
  }

  get(obj) {
    return this.kinds.get(`${obj.apiVersion}:${obj.kind}`);
  }

  check(validate, obj, where) {
    if (validate(obj)) return;
    const details = [];
    for (const e of validate.errors) {
      if (e.keyword === 'additionalProperties')
        problem(where, `schema: unknown field ${fieldPath(e.instancePath)}.${e.params.additionalProperty}`);
      else details.push(`${e.instancePath || '/'} ${e.message}`);
    }
    if (details.length) problem(where, `schema: ${[...new Set(details)].join('; ')}`);
  }
}

// ---- custom resources of the prod overlay: what Atrium needs of them beyond their schemas ----

const CUSTOM_RESOURCES = {
  'postgresql.cnpg.io/v1:Cluster': (o, where) => {
    if (!Number.isInteger(o.spec?.instances) || o.spec.instances < 1)
      problem(where, 'spec.instances must be a positive integer');
    if (!o.spec?.storage?.size) problem(where, 'spec.storage.size is required');
    const backup = o.spec?.backup;
    if (backup) {
      // Its syntax (30d, 4w, 3m) is the schema's; without one, backups are never deleted.
      if (!backup.retentionPolicy) problem(where, 'spec.backup.retentionPolicy is required');
      const store = backup.barmanObjectStore;
      if (!/^(s3|gs):\/\/[^/]+|^https:\/\//.test(store?.destinationPath ?? ''))
        problem(
          where,
          'spec.backup.barmanObjectStore.destinationPath must be an s3://, gs:// or https:// URL',
        );
      if (store && !store.s3Credentials && !store.googleCredentials && !store.azureCredentials)
        problem(where, 'spec.backup.barmanObjectStore needs credentials (s3Credentials from a Secret)');
    }
  },
  'postgresql.cnpg.io/v1:ScheduledBackup': (o, where) => {
    // Six fields, seconds first (CloudNativePG's cron): a five-field line would run every minute.
    if (
      String(o.spec?.schedule ?? '')
        .trim()
        .split(/\s+/).length !== 6
    )
      problem(where, 'spec.schedule must have six cron fields (seconds first)');
    if (!o.spec?.cluster?.name) problem(where, 'spec.cluster.name is required');
  },
  'rabbitmq.com/v1beta1:RabbitmqCluster': (o, where) => {
    if (o.spec?.replicas !== undefined && !Number.isInteger(o.spec.replicas))
      problem(where, 'spec.replicas must be an integer');
    const config = o.spec?.rabbitmq?.additionalConfig ?? '';
    if (typeof config !== 'string') problem(where, 'spec.rabbitmq.additionalConfig must be a string');
  },
};

// ---- one rendered overlay ----

const podTemplate = (o) => o.spec?.template;

/** Custom resources checked against an operator's schema: "apiVersion Kind" -> schema source -> count. */
const customChecked = new Map();

async function checkRender(label, file, schemas, { schemasOnly = false } = {}) {
  const docs = parseAll(file, label);
  // An overlay that creates its Namespace puts every namespaced object in it.
  const expectNamespace = docs.find((o) => o.kind === 'Namespace')?.metadata?.name;
  if (!docs.length) problem(label, 'renders no documents');
  const seen = new Set();
  const byKind = (kind) => docs.filter((o) => o.kind === kind);
  const at = (o) => `${label} ${id(o)}`;

  for (const [i, o] of docs.entries()) {
    const where = `${label} document ${i + 1} (${id(o)})`;
    if (typeof o !== 'object' || Array.isArray(o)) {
      problem(where, 'is not a mapping');
      continue;
    }
    if (typeof o.apiVersion !== 'string' || !o.apiVersion) problem(where, 'apiVersion is missing');
    if (typeof o.kind !== 'string' || !o.kind) problem(where, 'kind is missing');
    if (typeof o.metadata?.name !== 'string' || !DNS_1123.test(o.metadata.name))
      problem(where, 'metadata.name is missing or not a DNS-1123 name');
    const key = `${o.apiVersion}:${o.kind}:${o.metadata?.namespace ?? ''}:${o.metadata?.name}`;
    if (seen.has(key)) problem(where, 'is defined twice');
    seen.add(key);
    if (expectNamespace && !CLUSTER_SCOPED.has(o.kind) && o.metadata?.namespace !== expectNamespace)
      problem(where, `namespace is ${o.metadata?.namespace ?? 'unset'}, expected ${expectNamespace}`);
    if (o.kind === 'Secret' && (o.data || o.stringData))
      problem(where, 'a Secret with literal data: create it outside the repository');

    const custom = CUSTOM_RESOURCES[`${o.apiVersion}:${o.kind}`];
    if (custom) custom(o, at(o));
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') continue;
    const source = await schemas.validate(o, at(o));
    if (!source) problem(at(o), `no schema known for ${o.apiVersion} ${o.kind}`);
    else if (!source.startsWith('kubernetes-models ')) {
      const type = `${o.apiVersion} ${o.kind}`;
      if (!customChecked.has(type)) customChecked.set(type, new Map());
      customChecked.get(type).set(source, (customChecked.get(type).get(source) ?? 0) + 1);
    }
  }
  if (schemasOnly) return docs.length;

  // Pods that will exist: from workloads here, and those the operators create for their CRs.
  const pods = docs
    .filter((o) => WORKLOADS.has(o.kind))
    .map((o) => ({ owner: at(o), labels: podTemplate(o)?.metadata?.labels ?? {} }));
  for (const c of byKind('Cluster'))
    pods.push({ owner: at(c), labels: { 'cnpg.io/cluster': c.metadata.name } });
  for (const r of byKind('RabbitmqCluster'))
    pods.push({ owner: at(r), labels: { 'app.kubernetes.io/name': r.metadata.name } });
  const selects = (selector) => pods.filter((p) => matches(selector, p.labels));

  const secrets = new Set([...byKind('Secret').map((s) => s.metadata.name), ...EXTERNAL_SECRETS]);
  const operatorSecrets = new Map([
    ...byKind('Cluster').map((c) => [`${c.metadata.name}-app`, at(c)]),
    ...byKind('RabbitmqCluster').map((r) => [`${r.metadata.name}-default-user`, at(r)]),
  ]);
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c]));
  const services = new Map(byKind('Service').map((s) => [s.metadata.name, s]));

  for (const w of docs.filter((o) => WORKLOADS.has(o.kind))) {
    const where = at(w);
    const template = podTemplate(w);
    if (w.kind !== 'Job') {
      if (!w.spec?.selector?.matchLabels || !matches(w.spec.selector.matchLabels, template?.metadata?.labels))
        problem(where, 'spec.selector does not select its own pod template');
    }
    for (const c of [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])]) {
      checkContainer(where, c, { secrets, operatorSecrets, configMaps });
    }
    if (w.kind === 'Deployment' || w.kind === 'StatefulSet') {
      for (const c of template?.spec?.containers ?? []) {
        if (!c.livenessProbe || !c.readinessProbe)
          problem(`${where} container ${c.name}`, 'needs a livenessProbe and a readinessProbe');
      }
    }
  }

  // Backups: a ScheduledBackup names a Cluster here that has a backup store, whose credentials
  // come from known Secrets.
  for (const c of byKind('Cluster')) {
    const creds = c.spec?.backup?.barmanObjectStore?.s3Credentials ?? {};
    for (const [field, ref] of Object.entries(creds))
      if (ref?.name && !secrets.has(ref.name))
        problem(at(c), `spec.backup.barmanObjectStore.s3Credentials.${field}: Secret ${ref.name} is unknown`);
  }
  for (const b of byKind('ScheduledBackup')) {
    const cluster = byKind('Cluster').find((c) => c.metadata.name === b.spec?.cluster?.name);
    if (!cluster) problem(at(b), `spec.cluster.name ${b.spec?.cluster?.name} names no Cluster here`);
    else if (
      (b.spec.method ?? 'barmanObjectStore') === 'barmanObjectStore' &&
      !cluster.spec?.backup?.barmanObjectStore
    )
      problem(at(b), `Cluster ${cluster.metadata.name} has no spec.backup.barmanObjectStore to back up to`);
  }

  for (const s of services.values()) {
    if (!s.spec?.selector) continue;
    if (!selects(s.spec.selector).length)
      problem(at(s), `selector ${JSON.stringify(s.spec.selector)} matches no pod template`);
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const ref = h.spec?.scaleTargetRef ?? {};
    const target = docs.find(
      (o) => o.kind === ref.kind && o.metadata?.name === ref.name && o.apiVersion === ref.apiVersion,
    );
    if (!target) problem(at(h), `scaleTargetRef ${ref.apiVersion} ${ref.kind}/${ref.name} does not exist`);
    if (target && h.spec.minReplicas > h.spec.maxReplicas) problem(at(h), 'minReplicas > maxReplicas');
  }
  for (const p of byKind('PodDisruptionBudget')) {
    if (!selects(p.spec?.selector?.matchLabels).length || !p.spec?.selector?.matchLabels)
      problem(at(p), 'selector matches no pod template');
  }
  for (const n of byKind('NetworkPolicy')) {
    const sel = n.spec?.podSelector?.matchLabels;
    if (sel && !selects(sel).length) {
      // The base runs no datastore: its datastore policies wait for the pods an overlay provides.
      if (expectNamespace) problem(at(n), `podSelector ${JSON.stringify(sel)} matches no pod`);
      else
        notes.push(
          `${at(n)}: podSelector ${JSON.stringify(sel)} matches no pod here (provided by an overlay)`,
        );
    }
    for (const rule of n.spec?.ingress ?? [])
      for (const peer of rule.from ?? []) {
        const peerSel = peer.podSelector?.matchLabels;
        if (peerSel && !peer.namespaceSelector && !selects(peerSel).length)
          problem(at(n), `ingress from podSelector ${JSON.stringify(peerSel)} matches no pod`);
      }
  }
  for (const ing of byKind('Ingress')) {
    for (const rule of ing.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend?.service;
        const svc = backend && services.get(backend.name);
        if (!svc) problem(at(ing), `backend service ${backend?.name} does not exist`);
        else if (
          !svc.spec?.ports?.some((p) => p.name === backend.port?.name || p.port === backend.port?.number)
        )
          problem(
            at(ing),
            `service ${backend.name} has no port ${backend.port?.name ?? backend.port?.number}`,
          );
      }
    for (const tls of ing.spec?.tls ?? [])
      if (!secrets.has(tls.secretName)) problem(at(ing), `TLS secret ${tls.secretName} is unknown`);
  }

  // Every deployable app: Deployment (running that app), Service, HPA and PDB.
  for (const svc of deployedServices()) {
    const name = `atrium-${svc}`;
    const deployment = docs.find((o) => o.kind === 'Deployment' && o.metadata?.name === name);
    if (!deployment) {
      problem(label, `no Deployment ${name} for apps/${svc}`);
      continue;
    }
    const args = deployment.spec?.template?.spec?.containers?.[0]?.args ?? [];
    if (args[0] !== svc)
      problem(at(deployment), `container args ${JSON.stringify(args)} do not start ${svc}`);
    for (const kind of ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'])
      if (!docs.some((o) => o.kind === kind && o.metadata?.name === name))
        problem(label, `no ${kind} ${name} for apps/${svc}`);
  }
  const jobs = byKind('Job').filter(
    (j) => (j.spec?.template?.spec?.containers?.[0]?.args ?? [])[0] === MIGRATE,
  );
  if (!jobs.length) problem(label, 'no migration Job (container args ["migrate"])');
  for (const d of byKind('Deployment').filter((o) => o.metadata.name.startsWith('atrium-'))) {
    const env = d.spec?.template?.spec?.containers?.[0];
    const runMigrations = envValue(env, 'RUN_MIGRATIONS', configMaps);
    if (runMigrations !== undefined && runMigrations !== 'false')
      problem(at(d), 'RUN_MIGRATIONS must be false (the Job migrates)');
  }

  return docs.length;
}

function envValue(container, name, configMaps) {
  const direct = container?.env?.find((e) => e.name === name);
  if (direct) return direct.value;
  for (const from of container?.envFrom ?? []) {
    const cm = from.configMapRef && configMaps.get(from.configMapRef.name);
    if (cm?.data && name in cm.data) return cm.data[name];
  }
  return undefined;
}

function checkContainer(where, c, { secrets, operatorSecrets, configMaps }) {
  const here = `${where} container ${c.name}`;
  if (!c.resources?.requests || !c.resources?.limits)
    problem(here, 'needs resources.requests and resources.limits');
  const defined = new Set();
  const secretRef = (name) => {
    if (!secrets.has(name) && !operatorSecrets.has(name))
      problem(here, `Secret ${name} is neither rendered nor a documented external Secret`);
  };
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMaps.get(from.configMapRef.name);
      if (!cm) problem(here, `ConfigMap ${from.configMapRef.name} does not exist`);
      else for (const k of Object.keys(cm.data ?? {})) defined.add(k);
    }
    if (from.secretRef) secretRef(from.secretRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      for (const m of String(e.value).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
        if (!defined.has(m[1]))
          problem(here, `${e.name} refers to $(${m[1]}), which is not defined before it`);
      const literal = String(e.value).replace(/\$\([^)]*\)/g, '');
      if (SECRET_ENV.test(e.name) && literal.length)
        problem(here, `${e.name} is a literal; read it from a Secret`);
      if (/:\/\/[^/@\s$]*:[^/@\s$]+@/.test(literal)) problem(here, `${e.name} holds literal credentials`);
    }
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) secretRef(ref.name);
    const cmRef = e.valueFrom?.configMapKeyRef;
    if (cmRef && !configMaps.get(cmRef.name)?.data?.[cmRef.key])
      problem(here, `ConfigMap key ${cmRef.name}/${cmRef.key} does not exist`);
    defined.add(e.name);
  }
}

// ---- docker-compose.yml ----

function checkCompose(file) {
  const [compose] = parseAll(file, 'docker-compose.yml');
  if (!compose?.services) {
    problem('docker-compose.yml', 'has no services');
    return;
  }
  const services = compose.services;
  for (const svc of deployedServices()) {
    const s = services[svc];
    if (!s) problem('docker-compose.yml', `no service ${svc} for apps/${svc}`);
    else if (JSON.stringify(s.command) !== JSON.stringify([svc]))
      problem(`docker-compose.yml ${svc}`, `command must be ["${svc}"]`);
  }
  if (JSON.stringify(services[MIGRATE]?.command) !== JSON.stringify([MIGRATE]))
    problem('docker-compose.yml', 'no one-shot migrate service (command ["migrate"])');
  for (const [name, s] of Object.entries(services)) {
    for (const [key, value] of Object.entries(s.environment ?? {})) {
      if (typeof value !== 'string') continue;
      const literal = value.replace(/\$\{[^}]*\}/g, '');
      if (SECRET_ENV.test(key) && !/\$\{/.test(value))
        problem(`docker-compose.yml ${name}`, `${key} is a literal; take it from .env`);
      if (/:\/\/[^/@\s]*:[^/@\s]+@/.test(literal))
        problem(`docker-compose.yml ${name}`, `${key} holds literal credentials`);
    }
    if (Array.isArray(s.depends_on))
      problem(`docker-compose.yml ${name}`, 'depends_on must state conditions');
    else
      for (const [dep, { condition } = {}] of Object.entries(s.depends_on ?? {})) {
        if (!services[dep]) problem(`docker-compose.yml ${name}`, `depends on unknown service ${dep}`);
        if (condition === 'service_healthy' && !services[dep]?.healthcheck)
          problem(`docker-compose.yml ${name}`, `waits for ${dep} to be healthy, which has no healthcheck`);
      }
  }
  for (const infra of ['postgres', 'rabbitmq']) {
    if (!services[infra]?.healthcheck) problem(`docker-compose.yml ${infra}`, 'needs a healthcheck');
    if (!services[infra]?.volumes?.length) problem(`docker-compose.yml ${infra}`, 'needs a volume');
  }
  if (!services.gateway?.ports?.length) problem('docker-compose.yml gateway', 'must publish a port');
}

// ---- main ----

async function main(argv) {
  let modelsDir = join(ROOT, 'tmp', 'deploy-validators');
  let composeFile = null;
  let schemasOnly = false;
  const renders = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--models') modelsDir = argv[++i];
    else if (argv[i] === '--compose') composeFile = argv[++i];
    else if (argv[i] === '--schemas-only') schemasOnly = true;
    else {
      const eq = argv[i].indexOf('=');
      if (eq < 1) throw new Error(`expected NAME=RENDERED.yaml, got ${argv[i]}`);
      renders.push({ label: argv[i].slice(0, eq), file: argv[i].slice(eq + 1) });
    }
  }
  const schemas = new Schemas(modelsDir);
  for (const r of renders) {
    const before = problems.length;
    const count = await checkRender(r.label, r.file, schemas, { schemasOnly });
    console.log(
      `${r.label}: ${count} documents, ${problems.length - before ? `${problems.length - before} problem(s)` : 'ok'}`,
    );
  }
  for (const [type, sources] of customChecked)
    for (const [source, count] of sources) console.log(`${type}: ${count} checked against ${source}`);
  if (composeFile) {
    const before = problems.length;
    checkCompose(composeFile);
    console.log(
      `docker-compose.yml: ${problems.length - before ? `${problems.length - before} problem(s)` : 'ok'}`,
    );
  }
  for (const n of notes) console.log(`note: ${n}`);
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
