/**
 * Every `synker` command registers itself here: one module per command (or
 * command group) under src/cli/commands/, each exporting `register(program)`.
 */
import type { Command } from 'commander';
import { register as registerAgent } from './agent.js';
import { register as registerCheck } from './check.js';
import { register as registerDemo } from './demo.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerFolder } from './folder.js';
import { register as registerId } from './id.js';
import { register as registerInit } from './init.js';
import { register as registerOutbox } from './outbox.js';
import { register as peers } from './peers.js';
import { register as registerScan } from './scan.js';
import { register as registerRestore } from './restore.js';
import { register as registerService } from './service.js';
import { register as registerStatus } from './status.js';
import { register as registerSync } from './sync.js';
import { register as registerTestEmail } from './test-email.js';
import { register as registerTrust } from './trust.js';
import { register as registerVersions } from './versions.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerAgent, registerInit, registerDoctor, registerService, registerScan, peers, registerId, registerTrust, registerFolder, registerStatus, registerOutbox, registerTestEmail, registerVersions, registerCheck, registerSync, registerRestore, registerDemo];
