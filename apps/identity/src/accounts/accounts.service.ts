import { Injectable } from '@nestjs/common';
import { AccountFacts, AppError, Events, PublicUserView, UserSettings, UserView } from '@atrium/contracts';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { UserEntity } from './user.entity';

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    username: user.username,
    // Organizations have no email; the shape stays that of a user for Apify clients.
    email: user.email ?? '',
    emailVerified: user.emailVerifiedAt !== null && user.emailVerifiedAt !== undefined,
    createdAt: user.createdAt.toISOString(),
    settings: {
      generalResourceAccess: user.generalResourceAccess,
      shareRunsWithPublicActorCreators: user.shareRunsWithPublicActorCreators,
    },
  };
}

export function toAccountFacts(user: UserEntity): AccountFacts {
  return {
    id: user.id,
    username: user.username,
    generalResourceAccess: user.generalResourceAccess,
    shareRunsWithPublicActorCreators: user.shareRunsWithPublicActorCreators,
    version: user.version,
  };
}

/**
 * The account a reference names, in a fixed precedence: the account whose id it is (exactly),
 * else the one whose username it is (case-insensitive), else the one whose email it is. Ids and
 * usernames share an alphabet, so anyone could register another account's id as a username: the
 * id always wins. Every lookup of a user named in a request (grants, app collaborators,
 * invitations) goes through here.
 */
export function findAccountByRef(manager: EntityManager, ref: string): Promise<UserEntity | null> {
  const lower = ref.toLowerCase();
  return manager
    .createQueryBuilder(UserEntity, 'u')
    .where('u.id = :ref OR u.username_lower = :lower OR u.email = :lower', { ref, lower })
    .orderBy('CASE WHEN u.id = :ref THEN 0 WHEN u.username_lower = :lower THEN 1 ELSE 2 END', 'ASC')
    .limit(1)
    .getOne();
}

@Injectable()
export class AccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async getUser(userId: string, manager: EntityManager = this.dataSource.manager): Promise<UserEntity> {
    const user = await manager.findOneBy(UserEntity, { id: userId });
    if (!user) throw AppError.notFound('The user');
    return user;
  }

  /**
   * Finds a user by id, else username (case-insensitive): see findAccountByRef. Never by email: a
   * lookup that answers for registered addresses and not for others tells who is registered (issue
   * 12, hole 8), and usernames are public anyway. Addresses are for invitations, which answer alike.
   */
  async resolve(ref: string): Promise<PublicUserView> {
    if (ref.includes('@'))
      throw new AppError(
        'invalid-input',
        'Field "body.user" is invalid: name the user by username or id; an email address is not accepted here, so that sharing cannot reveal who is registered (invite an address to an organization or a collaboration instead)',
      );
    const user = await findAccountByRef(this.dataSource.manager, ref);
    if (!user) throw AppError.notFound(`The user "${ref}"`);
    return { id: user.id, username: user.username };
  }

  async facts(by: { id: string } | { username: string }): Promise<AccountFacts> {
    const user =
      'id' in by
        ? await this.dataSource.manager.findOneBy(UserEntity, { id: by.id })
        : await this.dataSource.manager.findOneBy(UserEntity, { usernameLower: by.username.toLowerCase() });
    if (!user) throw AppError.notFound('The account');
    return toAccountFacts(user);
  }

  async updateSettings(userId: string, settings: Partial<UserSettings>): Promise<UserView> {
    const user = await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(UserEntity, {
        where: { id: userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) throw AppError.notFound('The user');
      Object.assign(current, settings, { version: current.version + 1 });
      await manager.save(current);
      await addToOutbox(manager, Events.accountUpdated, toAccountFacts(current));
      return current;
    });
    this.outbox.kick();
    return toUserView(user);
  }
}
