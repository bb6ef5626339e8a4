import type { RolePermissions } from './permissions';

/** The shapes the gateway answers (libs/contracts: organizations and collaboration contracts). */
export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  count: number;
  items: T[];
}

export interface Organization {
  id: string;
  username: string;
  ownerId: string;
  createdAt: string;
  /** The caller's role in it. */
  role: { id: string; name: string; permissions: RolePermissions };
}

export interface OrganizationRole {
  id: string;
  name: string;
  builtIn: 'OWNER' | 'ADMINISTRATOR' | 'DEVELOPER' | 'READ_ONLY' | null;
  permissions: RolePermissions;
  memberCount: number;
}

export interface OrganizationMember {
  userId: string;
  username: string;
  roleId: string;
  roleName: string;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  organizationId: string;
  organizationUsername: string;
  userId: string | null;
  username: string | null;
  email: string | null;
  roleId: string;
  roleName: string;
  status: 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED' | 'EXPIRED';
  createdAt: string;
  expiresAt: string;
}

export interface SharedItem {
  resourceId?: string;
  groupId?: string;
  category?: 'ENVIRONMENTS';
  roleIds: string[];
  permissions: string[];
}

export type CollaborationStatus = 'PENDING' | 'ACTIVE' | 'SUSPENDED' | 'LEFT' | 'REMOVED' | 'DECLINED';

export interface CollaborationMember {
  id: string;
  userId: string | null;
  email: string;
  displayName: string | null;
  status: CollaborationStatus;
  shared: SharedItem[];
  invitedAt: string;
}

/** The member side: a primary that invited me. */
export interface Collaboration {
  id: string;
  primaryId: string;
  primaryUsername: string | null;
  status: CollaborationStatus;
  displayName: string | null;
  shared: SharedItem[];
  invitedAt: string;
}

export interface CollaborationPolicy {
  id: string;
  name: string;
  description: string | null;
  system: boolean;
  permissions: string[];
}

export interface CollaborationRole {
  id: string;
  name: string;
  description: string | null;
  policies: string[];
  permissions: string[];
  receiveNotifications: boolean;
}

export interface Environment {
  id: string;
  name: string;
  ownerId: string;
  createdBy: string;
  groupId: string | null;
  status: string;
  region: string;
  config: Record<string, unknown>;
  deployments: { id: string; artifact: string; deployedAt: string }[];
  createdAt: string;
  modifiedAt: string;
}

export interface EnvironmentGroup {
  id: string;
  name: string;
  ownerId: string;
  parentId: string | null;
}
