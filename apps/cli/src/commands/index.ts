import { Command } from 'commander';
import { registerAccessCommands } from './access';
import { registerActorCommands } from './actors';
import { registerAuditCommands } from './audit';
import { registerAuthCommands } from './auth';
import { registerOrganizationCommands } from './organizations';
import { registerRunCommands } from './runs';
import { registerStorageCommands } from './storages';
import { registerTokenCommands } from './tokens';

/** Every command of `atrium`, one module per group. */
export function registerCommands(program: Command): void {
  registerAuthCommands(program);
  registerActorCommands(program);
  registerRunCommands(program);
  registerAccessCommands(program);
  registerStorageCommands(program);
  registerOrganizationCommands(program);
  registerTokenCommands(program);
  registerAuditCommands(program);
}
