import {
  createEnvironmentBody,
  createEnvironmentGroupBody,
  ENVIRONMENT_GROUPS,
  EnvironmentGroupView,
  ENVIRONMENTS,
  EnvironmentView,
  ListPage,
} from '@atrium/contracts';
import { z, ZodTypeAny } from 'zod';
import { Principal, principalRef, requireUser } from '../auth/principal';
import { paginationQuery } from '../http/api-query';
import { CatalogueCalls, catalogueController, CatalogueControllerSpec } from '../http/catalogue-controller';
import { environmentGroupView, environmentView } from '../http/views';
import { ListingCaller } from '../authorization/authorize.decorator';
import { requireMove } from './environment-move';
import { FetchPage, listPageOf, listReadableOf, listSharedWithMe } from './environment-listing';

const listQuery = z.object({
  ...paginationQuery,
  ownership: z.enum(['ownedByMe', 'sharedWithMe']).optional(),
});

type View = EnvironmentView | EnvironmentGroupView;
type Catalogued = typeof ENVIRONMENTS | typeof ENVIRONMENT_GROUPS;

/**
 * The account's environments or groups; `sharedWithMe`, those of the primaries the caller
 * collaborates with and those granted to it; another account's, or through a scoped token, only
 * what the caller may READ, item by item.
 */
function listOf(descriptor: Catalogued) {
  return async ({ rpc }: CatalogueCalls, lister: ListingCaller, q: z.output<typeof listQuery>) => {
    const fetch: FetchPage<View> = (req) => rpc.call(descriptor.rpc.list, req) as Promise<ListPage<View>>;
    const user = requireUser(lister.principal);
    const page = listPageOf(q);
    const principal = { ...principalRef(user), userId: user.userId };
    if (q.ownership === 'sharedWithMe') return listSharedWithMe(rpc, principal, descriptor.type, page, fetch);
    if (lister.account !== user.userId || principalRef(user).scope)
      return listReadableOf(rpc, principal, lister.account, page, fetch);
    return fetch({ ownerIds: [lister.account], page });
  };
}

/**
 * An update that moves it to another group (`field`; null: out of every group) also needs DELETE
 * on it where it is, CREATE in the target, and must give the mover no permission it lacks now
 * (`requireMove`).
 */
function moveChecked(descriptor: Catalogued, field: 'groupId' | 'parentId') {
  return async (
    { rpc }: CatalogueCalls,
    principal: Principal,
    resource: { id: string },
    changes: { groupId?: string | null; parentId?: string | null },
  ) => {
    const target = changes[field];
    if (target !== undefined) {
      const current = (await rpc.call(descriptor.rpc.get, { id: resource.id })) as typeof changes;
      if (target !== current[field])
        await requireMove(rpc, requireUser(principal), resource.id, target, `body.${field}`);
    }
    return changes;
  };
}

/**
 * Environments' or groups' list, get, update (renames and moves, CONFIGURE) and delete (DELETE),
 * made from their descriptor.
 */
function environmentCatalogueController(
  descriptor: Catalogued,
  parentField: 'groupId' | 'parentId',
  view: ZodTypeAny,
  create: CatalogueControllerSpec<View>['create'],
) {
  return catalogueController<View>(descriptor, {
    view,
    tag: 'environments',
    create: { ...create, inAccount: { ownerFrom: 'ownerId', groupFrom: parentField } },
    permissions: { update: 'CONFIGURE', delete: 'DELETE' },
    list: { query: listQuery, page: listOf(descriptor) },
    update: { changes: moveChecked(descriptor, parentField) },
  });
}

/**
 * Environments: created in the caller's account or, with `ownerId`, in a primary account whose
 * collaboration lets the caller create there (the primary owns it, its quotas apply).
 */
export const EnvironmentsCatalogueController = environmentCatalogueController(
  ENVIRONMENTS,
  'groupId',
  environmentView,
  {
    body: createEnvironmentBody,
    request: async (
      _calls,
      _user,
      { ownerId: _owner, ...input }: z.output<typeof createEnvironmentBody>,
    ) => ({
      ...input,
      groupId: input.groupId ?? null,
    }),
  },
);
/**
 * Groups nest under a parent of the same owner (no cycles); a role shared on a group applies to
 * its environments and subgroups unless a nearer binding says otherwise.
 */
export const EnvironmentGroupsCatalogueController = environmentCatalogueController(
  ENVIRONMENT_GROUPS,
  'parentId',
  environmentGroupView,
  {
    body: createEnvironmentGroupBody,
    request: async (_calls, _user, { name, parentId }: z.output<typeof createEnvironmentGroupBody>) => ({
      name,
      parentId: parentId ?? null,
    }),
  },
);
