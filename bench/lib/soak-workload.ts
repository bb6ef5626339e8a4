import { randomBytes } from 'crypto';
import { sleep } from './log';

/*
 * The soak's workload: virtual users calling both gateways (each request to one chosen at
 * random), and the client-side ledger of every acknowledged (2xx) write and of every revocation
 * with the time its answer arrived, against which reads are judged as they come back.
 */

/** A read by a revoked user on another gateway than the revocation's counts only this long after it. */
export const OTHER_GATEWAY_GRACE_MS = 250;

type StorageKind = 'datasets' | 'key-value-stores' | 'request-queues';
const STORAGE_KINDS: StorageKind[] = ['datasets', 'key-value-stores', 'request-queues'];

interface User {
  id: string;
  username: string;
  token: string;
  storages: Record<StorageKind, string>;
}

interface Org {
  id: string;
  owner: User;
  datasetId: string;
  roleIds: string[];
}

/** Access of one user to one resource: each pair is granted at most once, revoked at most once. */
interface Access {
  state: 'active' | 'revoking' | 'revoked' | 'uncertain';
  grantId?: string;
  revokedAt?: number;
  revokedVia?: number;
}

/** The parts of the API's answers the workload reads (`{ data: … }`; absent on errors). */
interface Envelope {
  data: {
    id: string;
    token: string;
    accessToken: string;
    user: { id: string };
    items: { id: string; name: string }[];
  };
}

export interface Call {
  status: number;
  body: Envelope;
  ms: number;
  gateway: number;
  sentAt: number;
}

export interface Ledger {
  /** Item marker → dataset it was pushed to (acknowledged pushes). */
  items: Map<string, string>;
  /** Unacknowledged pushes (non-2xx answer): may or may not be there. */
  itemsUnacked: Set<string>;
  /** `${storeId}/${key}` → marker (acknowledged puts). */
  records: Map<string, string>;
  /** `${queueId}/${uniqueKey}` (acknowledged adds). */
  requests: Set<string>;
  /** `${resourceId}/${userId}` → access by grant. */
  grants: Map<string, Access>;
  /** `${orgId}/${userId}` → membership, with the role acknowledged last. */
  memberships: Map<string, Access & { roleId?: string }>;
}

export interface ReadChecks {
  afterRevocation: number;
  afterRevocationServed: number;
  inGraceWindow: number;
  inGraceWindowServed: number;
  unshared: number;
  unsharedServed: number;
  shared: number;
  sharedDenied: number;
  examples: string[];
}

export interface WorkloadOptions {
  gatewayUrls: string[];
  virtualUsers: number;
  requestsPerSecond: number;
  initialUsers: number;
  log: (message: string) => void;
}

const marker = () => randomBytes(9).toString('base64url');
/** Lowercase letters and digits only: valid in usernames and resource names. */
const name = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;
const pick = <T>(items: readonly T[]): T | undefined =>
  items.length ? items[Math.floor(Math.random() * items.length)] : undefined;
const ok = (status: number) => status >= 200 && status < 300;

export class SoakWorkload {
  readonly ledger: Ledger = {
    items: new Map(),
    itemsUnacked: new Set(),
    records: new Map(),
    requests: new Set(),
    grants: new Map(),
    memberships: new Map(),
  };
  readonly reads: ReadChecks = {
    afterRevocation: 0,
    afterRevocationServed: 0,
    inGraceWindow: 0,
    inGraceWindowServed: 0,
    unshared: 0,
    unsharedServed: 0,
    shared: 0,
    sharedDenied: 0,
    examples: [],
  };
  /** Every answer: operation → status → count, and latencies. */
  readonly statuses = new Map<string, Map<number, number>>();
  readonly latencies = new Map<string, number[]>();
  /** Answers by status, by second since the start (to tell errors during faults from others). */
  readonly timeline: { at: number; ms: number; status: number; op: string }[] = [];

  private readonly users: User[] = [];
  private readonly orgs: Org[] = [];
  /** Resource id → owner user id (user-owned storages), and the kind. */
  private readonly resources = new Map<string, { ownerId: string; kind: StorageKind }>();
  private stopping = false;
  private nextSlot = 0;
  private readonly startedAt = Date.now();

  constructor(private readonly options: WorkloadOptions) {}

  /** Paces every request to the configured rate across all virtual users. */
  private async slot(): Promise<void> {
    const now = Date.now();
    this.nextSlot = Math.max(now, this.nextSlot + 1000 / this.options.requestsPerSecond);
    if (this.nextSlot > now) await sleep(this.nextSlot - now);
  }

  private async call(
    op: string,
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Call> {
    await this.slot();
    const gateway = Math.floor(Math.random() * this.options.gatewayUrls.length);
    const sentAt = Date.now();
    let status = 0;
    let parsed: unknown = null;
    try {
      const res = await fetch(this.options.gatewayUrls[gateway] + path, {
        method,
        signal: AbortSignal.timeout(30_000),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      status = res.status;
      const text = await res.text();
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
    } catch {
      status = 0;
    }
    const ms = Date.now() - sentAt;
    const byStatus = this.statuses.get(op) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.statuses.set(op, byStatus);
    if (ok(status)) {
      const list = this.latencies.get(op) ?? [];
      list.push(ms);
      this.latencies.set(op, list);
    }
    this.timeline.push({ at: sentAt - this.startedAt, ms, status, op });
    if (
      (status === 0 || (status >= 500 && status !== 503 && status !== 504)) &&
      this.reads.examples.length < 40
    ) {
      this.reads.examples.push(
        `${op} ${method} ${path} via gateway#${gateway + 1} at ${sentAt - this.startedAt} ms → ${status || 'no answer'} after ${ms} ms ${JSON.stringify(parsed).slice(0, 200)}`,
      );
    }
    return { status, body: parsed as Envelope, ms, gateway, sentAt };
  }

  // --- writes -------------------------------------------------------------------------------

  private async signUp(): Promise<void> {
    const username = `soak-${marker()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    const res = await this.call('signup', 'POST', '/v2/auth/signup', undefined, {
      email: `${username}@example.com`,
      username,
      password: 'correct horse battery',
    });
    if (res.status !== 201) return;
    const jwt = res.body.data.accessToken as string;
    // An API token: the run outlives the access token's 15 minutes.
    const token = await this.call('signup', 'POST', '/v2/users/me/tokens', jwt, { name: 'soak' });
    if (!ok(token.status)) return;
    const settings = await this.call('signup', 'PUT', '/v2/users/me/settings', jwt, {
      generalResourceAccess: 'RESTRICTED',
    });
    if (!ok(settings.status)) return;
    const storages: Partial<Record<StorageKind, string>> = {};
    for (const kind of STORAGE_KINDS) {
      const created = await this.call('create-storage', 'POST', `/v2/${kind}?name=${name('s')}`, jwt);
      if (!ok(created.status)) return;
      storages[kind] = created.body.data.id;
    }
    const user: User = {
      id: res.body.data.user.id,
      username,
      token: token.body.data.token,
      storages: storages as Record<StorageKind, string>,
    };
    for (const kind of STORAGE_KINDS) this.resources.set(user.storages[kind], { ownerId: user.id, kind });
    this.users.push(user);
  }

  private async pushItem(): Promise<void> {
    const user = pick(this.users);
    if (!user) return;
    const mark = marker();
    const res = await this.call(
      'push-item',
      'POST',
      `/v2/datasets/${user.storages.datasets}/items`,
      user.token,
      { soakMarker: mark, at: Date.now(), text: 'x'.repeat(Math.floor(Math.random() * 200)) },
    );
    if (ok(res.status)) this.ledger.items.set(mark, user.storages.datasets);
    else this.ledger.itemsUnacked.add(mark);
  }

  private async putRecord(): Promise<void> {
    const user = pick(this.users);
    if (!user) return;
    const key = `k-${marker()}`;
    const mark = marker();
    const store = user.storages['key-value-stores'];
    const res = await this.call(
      'put-record',
      'PUT',
      `/v2/key-value-stores/${store}/records/${key}`,
      user.token,
      {
        soakMarker: mark,
      },
    );
    if (ok(res.status)) this.ledger.records.set(`${store}/${key}`, mark);
  }

  private async addRequest(): Promise<void> {
    const user = pick(this.users);
    if (!user) return;
    const mark = marker();
    const queue = user.storages['request-queues'];
    const res = await this.call('add-request', 'POST', `/v2/request-queues/${queue}/requests`, user.token, {
      url: `https://example.com/${mark}`,
      uniqueKey: mark,
    });
    if (ok(res.status)) this.ledger.requests.add(`${queue}/${mark}`);
  }

  private async grant(): Promise<void> {
    const owner = pick(this.users);
    const grantee = pick(this.users);
    if (!owner || !grantee || owner === grantee) return;
    const kind = pick(STORAGE_KINDS)!;
    const resourceId = owner.storages[kind];
    const key = `${resourceId}/${grantee.id}`;
    if (this.ledger.grants.has(key)) return;
    this.ledger.grants.set(key, { state: 'uncertain' });
    const res = await this.call('grant', 'POST', `/v2/${kind}/${resourceId}/access/grants`, owner.token, {
      user: grantee.username,
      permissions: ['READ'],
    });
    if (ok(res.status)) this.ledger.grants.set(key, { state: 'active', grantId: res.body.data.id });
  }

  private async revoke(): Promise<void> {
    const active = [...this.ledger.grants.entries()].filter(([, a]) => a.state === 'active');
    const chosen = pick(active);
    if (!chosen) return;
    const [key, access] = chosen;
    const [resourceId] = key.split('/');
    const resource = this.resources.get(resourceId)!;
    const owner = this.users.find((u) => u.id === resource.ownerId)!;
    access.state = 'revoking';
    const res = await this.call(
      'revoke',
      'DELETE',
      `/v2/${resource.kind}/${resourceId}/access/grants/${access.grantId}`,
      owner.token,
    );
    if (ok(res.status)) {
      access.state = 'revoked';
      access.revokedAt = Date.now();
      access.revokedVia = res.gateway;
    } else access.state = 'uncertain';
  }

  private async createOrg(): Promise<void> {
    const owner = pick(this.users);
    if (!owner || this.orgs.length >= this.users.length) return;
    const created = await this.call('org-create', 'POST', '/v2/organizations', owner.token, {
      username: `org-${marker()
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`,
    });
    if (!ok(created.status)) return;
    const orgId = created.body.data.id as string;
    const roles = await this.call('org-create', 'GET', `/v2/organizations/${orgId}/roles`, owner.token);
    if (!ok(roles.status)) return;
    const roleIds = roles.body.data.items.filter((r) => r.name !== 'Owner').map((r) => r.id);
    const dataset = await this.call(
      'org-create',
      'POST',
      `/v2/datasets?name=${name('o')}`,
      owner.token,
      undefined,
      { 'x-account-id': orgId },
    );
    if (!ok(dataset.status)) return;
    // An organization's resources follow its own setting (default: anyone with the id reads).
    const restricted = await this.call(
      'org-create',
      'PUT',
      `/v2/datasets/${dataset.body.data.id}`,
      owner.token,
      {
        generalAccess: 'RESTRICTED',
      },
    );
    if (!ok(restricted.status)) return;
    this.orgs.push({ id: orgId, owner, datasetId: dataset.body.data.id, roleIds });
  }

  private async addMember(): Promise<void> {
    const org = pick(this.orgs);
    const user = pick(this.users);
    if (!org || !user || user === org.owner) return;
    const key = `${org.id}/${user.id}`;
    if (this.ledger.memberships.has(key)) return;
    this.ledger.memberships.set(key, { state: 'uncertain' });
    const roleId = pick(org.roleIds)!;
    const invited = await this.call(
      'org-add-member',
      'POST',
      `/v2/organizations/${org.id}/invitations`,
      org.owner.token,
      {
        user: user.username,
        roleId,
      },
    );
    if (!ok(invited.status)) return;
    const accepted = await this.call(
      'org-add-member',
      'POST',
      `/v2/invitations/${invited.body.data.id}/accept`,
      user.token,
    );
    if (ok(accepted.status)) this.ledger.memberships.set(key, { state: 'active', roleId });
  }

  private activeMembership(): [Org, User, Access & { roleId?: string }] | undefined {
    const active = [...this.ledger.memberships.entries()].filter(([, m]) => m.state === 'active');
    const chosen = pick(active);
    if (!chosen) return undefined;
    const [orgId, userId] = chosen[0].split('/');
    return [this.orgs.find((o) => o.id === orgId)!, this.users.find((u) => u.id === userId)!, chosen[1]];
  }

  private async changeRole(): Promise<void> {
    const chosen = this.activeMembership();
    if (!chosen) return;
    const [org, user, membership] = chosen;
    const roleId = pick(org.roleIds.filter((r) => r !== membership.roleId));
    if (!roleId) return;
    membership.state = 'uncertain';
    const res = await this.call(
      'org-change-role',
      'PUT',
      `/v2/organizations/${org.id}/members/${user.id}`,
      org.owner.token,
      {
        roleId,
      },
    );
    if (ok(res.status)) {
      membership.state = 'active';
      membership.roleId = roleId;
    }
  }

  private async removeMember(): Promise<void> {
    const chosen = this.activeMembership();
    if (!chosen) return;
    const [org, user, membership] = chosen;
    membership.state = 'revoking';
    const res = await this.call(
      'org-remove-member',
      'DELETE',
      `/v2/organizations/${org.id}/members/${user.id}`,
      org.owner.token,
    );
    if (ok(res.status)) {
      membership.state = 'revoked';
      membership.revokedAt = Date.now();
      membership.revokedVia = res.gateway;
    } else membership.state = 'uncertain';
  }

  // --- reads --------------------------------------------------------------------------------

  /** Judges one read of `path` by `user` against what the ledger says about that access. */
  private async judgedRead(op: string, user: User, path: string, access: Access | undefined): Promise<void> {
    const before = access?.state;
    const res = await this.call(op, 'GET', path, user.token);
    if (res.status === 0 || res.status >= 500) return;
    const served = ok(res.status);
    const note = (what: string) => {
      if (this.reads.examples.length < 40)
        this.reads.examples.push(
          `${what}: ${user.username} GET ${path} via gateway#${res.gateway + 1} → ${res.status}`,
        );
    };
    if (access === undefined) {
      this.reads.unshared++;
      if (served) {
        this.reads.unsharedServed++;
        note('unshared resource served');
      }
    } else if (before === 'revoked' && access.revokedAt !== undefined) {
      const sameGateway = access.revokedVia === res.gateway;
      if (sameGateway || res.sentAt >= access.revokedAt + OTHER_GATEWAY_GRACE_MS) {
        this.reads.afterRevocation++;
        if (served) {
          this.reads.afterRevocationServed++;
          note(`served ${res.sentAt - access.revokedAt} ms after its revocation's answer`);
        }
      } else {
        this.reads.inGraceWindow++;
        if (served) this.reads.inGraceWindowServed++;
      }
    } else if (before === 'active' && access.state === 'active') {
      this.reads.shared++;
      if (!served) {
        this.reads.sharedDenied++;
        note('acknowledged access denied');
      }
    }
  }

  private async readGranted(): Promise<void> {
    const chosen = pick(
      [...this.ledger.grants.entries()].filter(([, a]) => a.state === 'active' || a.state === 'revoked'),
    );
    if (!chosen) return;
    const [resourceId, userId] = chosen[0].split('/');
    const user = this.users.find((u) => u.id === userId)!;
    const resource = this.resources.get(resourceId)!;
    const op = chosen[1].state === 'revoked' ? 'read-revoked' : 'read-shared';
    await this.judgedRead(op, user, `/v2/${resource.kind}/${resourceId}`, chosen[1]);
  }

  private async readOrgDataset(): Promise<void> {
    const chosen = pick(
      [...this.ledger.memberships.entries()].filter(([, m]) => m.state === 'active' || m.state === 'revoked'),
    );
    if (!chosen) return;
    const [orgId, userId] = chosen[0].split('/');
    const org = this.orgs.find((o) => o.id === orgId)!;
    const user = this.users.find((u) => u.id === userId)!;
    const op = chosen[1].state === 'revoked' ? 'read-org-removed' : 'read-org-member';
    await this.judgedRead(op, user, `/v2/datasets/${org.datasetId}`, chosen[1]);
  }

  private async readUnshared(): Promise<void> {
    const reader = pick(this.users);
    const owner = pick(this.users);
    if (!reader || !owner || reader === owner) return;
    const kind = pick(STORAGE_KINDS)!;
    const resourceId = owner.storages[kind];
    if (this.ledger.grants.has(`${resourceId}/${reader.id}`)) return;
    await this.judgedRead('read-unshared', reader, `/v2/${kind}/${resourceId}`, undefined);
  }

  private async readOwn(): Promise<void> {
    const user = pick(this.users);
    if (!user) return;
    await this.call(
      'read-own-items',
      'GET',
      `/v2/datasets/${user.storages.datasets}/items?limit=20&desc=1`,
      user.token,
    );
  }

  // --- driving ------------------------------------------------------------------------------

  private readonly mix: [number, () => Promise<void>][] = [
    [2, () => this.signUp()],
    [18, () => this.pushItem()],
    [12, () => this.putRecord()],
    [12, () => this.addRequest()],
    [8, () => this.grant()],
    [4, () => this.revoke()],
    [1, () => this.createOrg()],
    [3, () => this.addMember()],
    [2, () => this.changeRole()],
    [1, () => this.removeMember()],
    [12, () => this.readGranted()],
    [6, () => this.readOrgDataset()],
    [8, () => this.readUnshared()],
    [6, () => this.readOwn()],
  ];

  private nextOperation(): () => Promise<void> {
    const total = this.mix.reduce((sum, [w]) => sum + w, 0);
    let r = Math.random() * total;
    for (const [w, op] of this.mix) {
      r -= w;
      if (r < 0) return op;
    }
    return this.mix[0][1];
  }

  /** Signs up the first users, one at a time, retrying until there are enough. */
  async populate(): Promise<void> {
    for (let attempt = 0; this.users.length < this.options.initialUsers; attempt++) {
      if (attempt > this.options.initialUsers * 5) throw new Error('could not sign up the initial users');
      await this.signUp();
    }
    for (let i = 0; i < Math.ceil(this.options.initialUsers / 4); i++) await this.createOrg();
  }

  /** Runs the virtual users until `stop` is called; resolves when the last one has finished. */
  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.options.virtualUsers }, async () => {
        while (!this.stopping) await this.nextOperation()();
      }),
    );
  }

  stop(): void {
    this.stopping = true;
  }

  get userCount(): number {
    return this.users.length;
  }

  get orgCount(): number {
    return this.orgs.length;
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }
}
