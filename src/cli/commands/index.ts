/**
 * Every `synker` command registers itself here: one module per command (or
 * command group) under src/cli/commands/, each exporting `register(program)`.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
