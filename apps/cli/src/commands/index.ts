import { Command } from 'commander';
import { registerActorCommands } from './actors';
import { registerAuthCommands } from './auth';

/** Every command of `atrium`, one module per group. */
export function registerCommands(program: Command): void {
  registerAuthCommands(program);
  registerActorCommands(program);
}
