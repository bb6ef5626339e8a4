import { Command } from 'commander';
import { examples } from './help';
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
  // The group's own examples (runs.ts registers its subcommands, each with theirs).
  const runs = program.commands.find((c) => c.name() === 'runs');
  if (runs) examples(runs, 'atrium runs ls', 'atrium runs log <runId> --follow');
  registerAccessCommands(program);
  registerStorageCommands(program);
  registerOrganizationCommands(program);
  registerTokenCommands(program);
  registerAuditCommands(program);
}
