import { z } from 'zod';
import { ListPage, paginationSchema } from './resources.contract';
import { healthRequest, HealthResponse, rpc } from './rpc-route';
import { idSchema } from './validation';

export const ISSUE_STATUSES = ['OPEN', 'CLOSED'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];
export const ISSUE_LIST_STATUSES = [...ISSUE_STATUSES, 'ALL'] as const;
export const MAX_ISSUE_TITLE_LENGTH = 200;
export const MAX_ISSUE_DESCRIPTION_LENGTH = 10_000;
export const MAX_COMMENT_LENGTH = 10_000;
export const NOTIFICATION_KINDS = ['COMMENT_ADDED', 'STATUS_CHANGED'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

const issueTitle = z.string().trim().min(1, 'must not be empty').max(MAX_ISSUE_TITLE_LENGTH);
const issueDescription = z.string().max(MAX_ISSUE_DESCRIPTION_LENGTH);
const commentText = z.string().trim().min(1, 'must not be empty').max(MAX_COMMENT_LENGTH);

/** The REST body of `POST /v2/acts/:actorId/issues`; the run is named by `runUrl` or `runId`. */
export const createIssueBody = z
  .object({
    title: issueTitle,
    description: issueDescription.default(''),
    runUrl: z.string().min(1).max(2000).optional(),
    runId: idSchema.optional(),
  })
  .strict()
  .refine((b) => b.runUrl === undefined || b.runId === undefined, {
    message: 'give runUrl or runId, not both',
  });
export const updateIssueBody = z.object({ status: z.enum(ISSUE_STATUSES) }).strict();
export const commentBody = z.object({ text: commentText }).strict();

export interface IssueView {
  id: string;
  actId: string;
  /** The author. */
  userId: string;
  title: string;
  description: string;
  status: IssueStatus;
  /** The attached run; the gateway shows it to the Actor's owner and the author only. */
  runId: string | null;
  commentCount: number;
  createdAt: string;
  modifiedAt: string;
  closedAt: string | null;
}

export interface IssueCommentView {
  id: string;
  issueId: string;
  userId: string;
  text: string;
  createdAt: string;
  editedAt: string | null;
}

export interface NotificationView {
  id: string;
  kind: NotificationKind;
  issueId: string;
  actId: string;
  /** Who caused it: the commenter or the user who changed the status. */
  causedBy: string;
  commentId: string | null;
  /** The new status, for STATUS_CHANGED. */
  status: IssueStatus | null;
  createdAt: string;
  readAt: string | null;
}

const userId = z.string().min(1).max(100);
/** The most Actors a user's notifications are listed across (beyond, the oldest Actors' are not listed). */
export const MAX_NOTIFICATION_ACTORS = 10_000;

export const IssuesRpc = {
  health: rpc<HealthResponse>()('issues', 'issues.health', healthRequest),
  /**
   * Opens an issue and subscribes its author. With a run (already checked by the caller: the
   * author can read it and it is a run of this Actor) and `shareRun` (the caller's decision: the
   * author owns the run or holds MANAGE_ACCESS on it) it also emits `issues.run-attached`;
   * without `shareRun` the run is attached and shared with no one.
   */
  create: rpc<IssueView>()(
    'issues',
    'issues.issues.create',
    z
      .object({
        actorId: idSchema,
        actorOwnerId: userId,
        authorId: userId,
        title: issueTitle,
        description: issueDescription,
        runId: idSchema.nullable(),
        /** Absent (e.g. from a caller of an earlier release): attach without sharing. */
        shareRun: z.boolean().optional(),
      })
      .strict(),
  ),
  get: rpc<IssueView>()('issues', 'issues.issues.get', z.object({ id: idSchema }).strict()),
  /** An Actor's issues, newest first unless `page.desc` is false. */
  list: rpc<ListPage<IssueView>>()(
    'issues',
    'issues.issues.list',
    z.object({ actorId: idSchema, status: z.enum(ISSUE_LIST_STATUSES), page: paginationSchema }).strict(),
  ),
  /** The caller decided the change is allowed; subscribers other than `changedBy` are notified. */
  updateStatus: rpc<IssueView>()(
    'issues',
    'issues.issues.update-status',
    z.object({ id: idSchema, status: z.enum(ISSUE_STATUSES), changedBy: userId }).strict(),
  ),
  addComment: rpc<IssueCommentView>()(
    'issues',
    'issues.comments.add',
    z.object({ issueId: idSchema, authorId: userId, text: commentText }).strict(),
  ),
  listComments: rpc<ListPage<IssueCommentView>>()(
    'issues',
    'issues.comments.list',
    z.object({ issueId: idSchema, page: paginationSchema }).strict(),
  ),
  /** Only the comment's author may edit it (insufficient-permissions otherwise). */
  editComment: rpc<IssueCommentView>()(
    'issues',
    'issues.comments.edit',
    z.object({ issueId: idSchema, commentId: idSchema, editorId: userId, text: commentText }).strict(),
  ),
  setSubscription: rpc<{ subscribed: boolean }>()(
    'issues',
    'issues.subscriptions.set',
    z.object({ issueId: idSchema, userId, subscribed: z.boolean() }).strict(),
  ),
  /** Whether the user is subscribed to the issue (its author is, from the start, until they unsubscribe). */
  getSubscription: rpc<{ subscribed: boolean }>()(
    'issues',
    'issues.subscriptions.get',
    z.object({ issueId: idSchema, userId }).strict(),
  ),
  /**
   * The Actors the user's notifications are about: the caller decides which of them the user may
   * read now, and lists only those (the issues service does not know decisions).
   */
  listNotificationActors: rpc<{ actorIds: string[] }>()(
    'issues',
    'issues.notifications.list-actors',
    z.object({ userId }).strict(),
  ),
  /**
   * Newest first unless `page.desc` is false. With `actorIds`: only the notifications about those
   * Actors, in the page, its total and `unreadCount` alike.
   */
  listNotifications: rpc<ListPage<NotificationView> & { unreadCount: number }>()(
    'issues',
    'issues.notifications.list',
    z
      .object({
        userId,
        unreadOnly: z.boolean().default(false),
        page: paginationSchema,
        actorIds: z.array(idSchema).max(MAX_NOTIFICATION_ACTORS).optional(),
      })
      .strict(),
  ),
  /** One of the user's own notifications; someone else's is not found. */
  getNotification: rpc<NotificationView>()(
    'issues',
    'issues.notifications.get',
    z.object({ userId, notificationId: idSchema }).strict(),
  ),
  markNotificationRead: rpc<NotificationView>()(
    'issues',
    'issues.notifications.mark-read',
    z.object({ userId, notificationId: idSchema }).strict(),
  ),
} as const;
