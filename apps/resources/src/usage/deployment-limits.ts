import { Provider } from '@nestjs/common';
import { ResourcesConfig } from '@atrium/config';

/** The deployment's limits of every account (QUOTA_* variables); an account may only go lower. */
export interface DeploymentLimits {
  resourcesPerType: number;
  storageBytes: number;
  runTimeSecs: number;
}

export const DEPLOYMENT_LIMITS = Symbol('DEPLOYMENT_LIMITS');

export function deploymentLimitsProvider(config: ResourcesConfig): Provider {
  return {
    provide: DEPLOYMENT_LIMITS,
    useValue: {
      resourcesPerType: config.QUOTA_MAX_RESOURCES_PER_TYPE,
      storageBytes: config.QUOTA_MAX_STORAGE_BYTES,
      runTimeSecs: config.QUOTA_MAX_RUN_TIME_SECS,
    } satisfies DeploymentLimits,
  };
}
