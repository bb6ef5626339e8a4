import { Command } from 'commander';
import { registerAuthCommands } from './auth';
import { registerRunCommands } from './runs';

/** Every command of `atrium`, one module per group. */
export function registerCommands(program: Command): void {
  registerAuthCommands(program);
  registerRunCommands(program);
}
