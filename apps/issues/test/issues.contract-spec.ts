import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { EventEnvelope, Events, IssuesRpc, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  expectEveryRouteValidated,
  startContractHarness,
  TEST_AMQP_URL,
  testServiceConfig,
} from '@atrium/testing';
import { deadLetterQueue, eventQueue, RpcHandler, startServiceApp } from '@atrium/messaging';
import * as amqplib from 'amqplib';
import { DataSource } from 'typeorm';
import { IssuesModule } from '../src/issues.module';

const OBSERVER = 'issues-contract-observer';

/** The permissions service's side of `applyEvents`, as the issues service sees it: what it was asked. */
const appliedByPermissions: RpcPayload<typeof PermissionsRpc.applyEvents>[] = [];
@Controller()
class PermissionsEventsSide {
  @RpcHandler(PermissionsRpc.applyEvents)
  apply(@Payload() req: RpcPayload<typeof PermissionsRpc.applyEvents>): { ok: true } {
    appliedByPermissions.push(req);
    return { ok: true };
  }
}
@Module({ controllers: [PermissionsEventsSide] })
class PermissionsEventsSideModule {}

describe('issues message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  let permissions: INestMicroservice;
  const attached: EventEnvelope[] = [];
  const actorId = newId();
  const [owner, author, reader] = [newId(), newId(), newId()];
  const page = { offset: 0, limit: 100, desc: true };
  const open = (title: string, runId: string | null = null, actor = actorId, shareRun = runId !== null) =>
    h.rpc.call(IssuesRpc.create, {
      actorId: actor,
      actorOwnerId: owner,
      authorId: author,
      title,
      description: `about ${title}`,
      runId,
      shareRun,
    });
  const count = async (table: string) =>
    Number((await h.app.get(DataSource).query(`SELECT count(*) AS n FROM issues.${table}`))[0].n);

  beforeAll(async () => {
    h = await startContractHarness('issues', (url) => IssuesModule.forRoot(testServiceConfig(url)));
    permissions = await startServiceApp({ module: PermissionsEventsSideModule }, 'permissions', {
      amqpUrl: TEST_AMQP_URL,
      logLevel: 'error',
    });
    await h.bus.subscribe(OBSERVER, [Events.issuesRunAttached.name], async (e) => {
      attached.push(e);
    });
  });
  afterAll(async () => {
    await permissions.close();
    await h.close();
    // The observer's queue is this test's own: leave nothing behind on the broker.
    const connection = await amqplib.connect(TEST_AMQP_URL);
    const channel = await connection.createChannel();
    await channel.deleteQueue(eventQueue(OBSERVER));
    await channel.deleteQueue(deadLetterQueue(eventQueue(OBSERVER)));
    await connection.close();
  });

  it('validates the payload of every pattern it defines', () => expectEveryRouteValidated(h, 'issues'));

  it('migrates its own schema and answers health', async () => {
    expect(await h.rpc.call(IssuesRpc.health, {})).toEqual({ service: 'issues', ok: true });
    const tables = await h.app
      .get(DataSource)
      .query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'issues' ORDER BY table_name`,
      );
    expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual([
      'issue',
      'issue_comment',
      'issue_subscription',
      'issues_migrations',
      'notification',
      'outbox_message',
      'processed_message',
      'rpc_idempotency',
    ]);
  });

  it('opens issues, gets them and lists them per Actor by status, newest first, paginated', async () => {
    const first = await open('first');
    expect(first).toMatchObject({
      actId: actorId,
      userId: author,
      title: 'first',
      description: 'about first',
      status: 'OPEN',
      runId: null,
      commentCount: 0,
      closedAt: null,
    });
    const second = await open('second');
    await open('elsewhere', null, newId());
    expect(await h.rpc.call(IssuesRpc.get, { id: first.id })).toEqual(first);
    await expectAppError(h.rpc.call(IssuesRpc.get, { id: newId() }), 'record-not-found');

    const all = await h.rpc.call(IssuesRpc.list, { actorId, status: 'ALL', page });
    expect(all).toMatchObject({ total: 2, count: 2, offset: 0, limit: 100, desc: true });
    expect(all.items.map((i) => i.id)).toEqual([second.id, first.id]);
    const paged = await h.rpc.call(IssuesRpc.list, {
      actorId,
      status: 'ALL',
      page: { offset: 1, limit: 1, desc: true },
    });
    expect(paged).toMatchObject({ total: 2, count: 1 });
    expect(paged.items[0]?.id).toBe(first.id);

    const closed = await h.rpc.call(IssuesRpc.updateStatus, {
      id: first.id,
      status: 'CLOSED',
      changedBy: owner,
    });
    expect(closed.status).toBe('CLOSED');
    expect(closed.closedAt).not.toBeNull();
    const open_ = await h.rpc.call(IssuesRpc.list, { actorId, status: 'OPEN', page });
    expect(open_.items.map((i) => i.id)).toEqual([second.id]);
    const closedOnes = await h.rpc.call(IssuesRpc.list, { actorId, status: 'CLOSED', page });
    expect(closedOnes.items.map((i) => i.id)).toEqual([first.id]);
  });

  it('refuses an empty title, a title over 200 and a description over 10,000 characters, creating nothing', async () => {
    const before = await count('issue');
    const base = { actorId, actorOwnerId: owner, authorId: author, description: '', runId: null };
    for (const bad of [
      { ...base, title: '' },
      { ...base, title: '   ' },
      { ...base, title: 'x'.repeat(201) },
      { ...base, title: 'ok', description: 'x'.repeat(10_001) },
    ]) {
      const err = await expectAppError(h.rpc.call(IssuesRpc.create, bad), 'invalid-input');
      expect(err.message).toMatch(/payload\.(title|description)/);
    }
    expect(await count('issue')).toBe(before);
    const longest = await open('x'.repeat(200));
    expect(longest.title).toHaveLength(200);
  });

  it('writes issues.run-attached with the issue in one transaction, once per issue with a run', async () => {
    const runId = newId();
    const issue = await open('with a run', runId);
    expect(issue.runId).toBe(runId);
    // Before it answered, the permissions service was asked to apply the very event it published.
    expect(appliedByPermissions).toHaveLength(1);
    const eventsOf = () => attached.filter((e) => (e.payload as { issueId: string }).issueId === issue.id);
    await eventually(async () => expect(eventsOf()).toHaveLength(1));
    const events = eventsOf();
    expect(appliedByPermissions[0].events).toEqual([
      expect.objectContaining({ id: events[0].id, name: events[0].name, payload: events[0].payload }),
    ]);
    expect(events[0]?.payload).toEqual({
      issueId: issue.id,
      actorId,
      actorOwnerId: owner,
      runId,
      reporterId: author,
    });
    // An issue without a run emits nothing, nor one whose run the author may not share.
    const before = attached.length;
    await open('no run');
    const unshared = await open('a run the author only reads', newId(), actorId, false);
    expect(unshared.runId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(attached.length).toBe(before);
    expect(appliedByPermissions).toHaveLength(1);
  });

  it('adds, lists and edits comments (author only, with edit time) and counts them', async () => {
    const issue = await open('commented');
    const c1 = await h.rpc.call(IssuesRpc.addComment, {
      issueId: issue.id,
      authorId: reader,
      text: 'me too',
    });
    expect(c1).toMatchObject({ issueId: issue.id, userId: reader, text: 'me too', editedAt: null });
    await h.rpc.call(IssuesRpc.addComment, { issueId: issue.id, authorId: owner, text: 'looking' });
    expect((await h.rpc.call(IssuesRpc.get, { id: issue.id })).commentCount).toBe(2);
    const listed = await h.rpc.call(IssuesRpc.listComments, {
      issueId: issue.id,
      page: { offset: 0, limit: 10, desc: false },
    });
    expect(listed.items.map((c) => c.text)).toEqual(['me too', 'looking']);

    await expectAppError(
      h.rpc.call(IssuesRpc.editComment, { issueId: issue.id, commentId: c1.id, editorId: owner, text: 'no' }),
      'insufficient-permissions',
    );
    const edited = await h.rpc.call(IssuesRpc.editComment, {
      issueId: issue.id,
      commentId: c1.id,
      editorId: reader,
      text: 'me too, on 1.2',
    });
    expect(edited.text).toBe('me too, on 1.2');
    expect(edited.editedAt).not.toBeNull();
    await expectAppError(
      h.rpc.call(IssuesRpc.editComment, { issueId: newId(), commentId: c1.id, editorId: reader, text: 'x' }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(IssuesRpc.addComment, { issueId: issue.id, authorId: reader, text: ' ' }),
      'invalid-input',
    );
    await expectAppError(
      h.rpc.call(IssuesRpc.addComment, { issueId: newId(), authorId: reader, text: 'x' }),
      'record-not-found',
    );
  });

  it('notifies subscribers other than whoever caused it; the author is subscribed; marks read', async () => {
    const issue = await open('watched');
    const notificationsOf = (userId: string) => h.rpc.call(IssuesRpc.listNotifications, { userId, page });
    const subscribed = async (userId: string) =>
      (await h.rpc.call(IssuesRpc.getSubscription, { issueId: issue.id, userId })).subscribed;
    expect(await subscribed(author)).toBe(true);
    expect(await subscribed(reader)).toBe(false);
    expect(
      await h.rpc.call(IssuesRpc.setSubscription, { issueId: issue.id, userId: reader, subscribed: true }),
    ).toEqual({ subscribed: true });
    expect(await subscribed(reader)).toBe(true);
    // Subscribing twice changes nothing.
    await h.rpc.call(IssuesRpc.setSubscription, { issueId: issue.id, userId: reader, subscribed: true });

    const comment = await h.rpc.call(IssuesRpc.addComment, {
      issueId: issue.id,
      authorId: reader,
      text: 'hi',
    });
    const forAuthor = await notificationsOf(author);
    const mine = forAuthor.items.filter((n) => n.issueId === issue.id);
    expect(mine).toEqual([
      expect.objectContaining({
        kind: 'COMMENT_ADDED',
        causedBy: reader,
        commentId: comment.id,
        readAt: null,
      }),
    ]);
    expect((await notificationsOf(reader)).items.filter((n) => n.issueId === issue.id)).toEqual([]);

    await h.rpc.call(IssuesRpc.updateStatus, { id: issue.id, status: 'CLOSED', changedBy: author });
    const forReader = (await notificationsOf(reader)).items.filter((n) => n.issueId === issue.id);
    expect(forReader).toEqual([
      expect.objectContaining({ kind: 'STATUS_CHANGED', status: 'CLOSED', causedBy: author }),
    ]);
    // The same status again is no change and notifies no one.
    await h.rpc.call(IssuesRpc.updateStatus, { id: issue.id, status: 'CLOSED', changedBy: owner });
    expect((await notificationsOf(reader)).items.filter((n) => n.issueId === issue.id)).toHaveLength(1);

    await h.rpc.call(IssuesRpc.setSubscription, { issueId: issue.id, userId: reader, subscribed: false });
    expect(await subscribed(reader)).toBe(false);
    await expectAppError(
      h.rpc.call(IssuesRpc.getSubscription, { issueId: newId(), userId: reader }),
      'record-not-found',
    );
    await h.rpc.call(IssuesRpc.updateStatus, { id: issue.id, status: 'OPEN', changedBy: owner });
    expect((await notificationsOf(reader)).items.filter((n) => n.issueId === issue.id)).toHaveLength(1);
    expect((await notificationsOf(author)).items.filter((n) => n.issueId === issue.id)).toHaveLength(2);

    const target = forReader[0]!;
    await expectAppError(
      h.rpc.call(IssuesRpc.markNotificationRead, { userId: author, notificationId: target.id }),
      'record-not-found',
    );
    const read = await h.rpc.call(IssuesRpc.markNotificationRead, {
      userId: reader,
      notificationId: target.id,
    });
    expect(read.readAt).not.toBeNull();
    const unread = await h.rpc.call(IssuesRpc.listNotifications, { userId: reader, unreadOnly: true, page });
    expect(unread.items.map((n) => n.id)).not.toContain(target.id);
    expect((await notificationsOf(reader)).unreadCount).toBe(unread.total);
    await expectAppError(
      h.rpc.call(IssuesRpc.setSubscription, { issueId: newId(), userId: reader, subscribed: true }),
      'record-not-found',
    );
  });

  it("lists the Actors of a user's notifications, and only the notifications of the Actors asked for", async () => {
    const otherActor = newId();
    const subscriber = newId();
    const here = await open('here');
    const there = await open('there', null, otherActor);
    for (const issue of [here, there]) {
      await h.rpc.call(IssuesRpc.setSubscription, {
        issueId: issue.id,
        userId: subscriber,
        subscribed: true,
      });
      await h.rpc.call(IssuesRpc.addComment, { issueId: issue.id, authorId: owner, text: 'news' });
    }
    const actors = await h.rpc.call(IssuesRpc.listNotificationActors, { userId: subscriber });
    expect(actors.actorIds).toEqual([otherActor, actorId]);

    const only = await h.rpc.call(IssuesRpc.listNotifications, {
      userId: subscriber,
      page,
      actorIds: [otherActor],
    });
    expect(only).toMatchObject({ total: 1, count: 1, unreadCount: 1 });
    expect(only.items[0]).toMatchObject({ issueId: there.id, actId: otherActor });
    const none = await h.rpc.call(IssuesRpc.listNotifications, { userId: subscriber, page, actorIds: [] });
    expect(none).toMatchObject({ total: 0, count: 0, unreadCount: 0, items: [] });

    const got = await h.rpc.call(IssuesRpc.getNotification, {
      userId: subscriber,
      notificationId: only.items[0].id,
    });
    expect(got).toEqual(only.items[0]);
    await expectAppError(
      h.rpc.call(IssuesRpc.getNotification, { userId: owner, notificationId: only.items[0].id }),
      'record-not-found',
    );
  });
});
