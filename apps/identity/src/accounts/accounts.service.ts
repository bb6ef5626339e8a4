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

  /** Finds a user by id, username or email (case-insensitive). */
  async resolve(ref: string): Promise<PublicUserView> {
    const lower = ref.toLowerCase();
    const user = await this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.id = :ref OR u.username_lower = :lower OR u.email = :lower', { ref, lower })
      .getOne();
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
