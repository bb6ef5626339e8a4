import { Command } from 'commander';
import { registerAuthCommands } from './auth';

/** Every command of `atrium`, one module per group. */
export function registerCommands(program: Command): void {
  registerAuthCommands(program);
}
