/**
 * The CLI's end of the control socket (protocol.ts): asks the running agent
 * of this data directory to do a check. Undefined means "do it yourself":
 * no agent runs, it serves another config, or it went away before it
 * answered; the caller then checks in its own process, so a stopped or
 * older agent never makes a check fail.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import type { CheckReport } from '../report/model.js';
import { controlSocketPath, STALL_MS, type ControlCheckRequest, type ControlReply } from './protocol.js';
import { plural } from '../base/units.js';

const log = createLogger('check');

export async function checkThroughAgent(
  dataDir: string,
  request: ControlCheckRequest,
  stallMs = STALL_MS,
): Promise<CheckReport[] | undefined> {
  const socketPath = controlSocketPath(dataDir);
  if (socketPath === undefined) return undefined;
  const socket = await connect(socketPath);
  if (socket === undefined) return undefined;
  return new Promise((resolve) => {
    const reports: CheckReport[] = [];
    let settled = false;
    let stall: NodeJS.Timeout | undefined;
    const settle = (result: CheckReport[] | undefined, why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      if (why !== undefined) log.debug(`checking in this process: ${why}`);
      socket.destroy();
      resolve(result);
    };
    const heard = (): void => {
      clearTimeout(stall);
      stall = setTimeout(() => settle(undefined, `the agent said nothing for ${stallMs / 1000} s (stuck or suspended?)`), stallMs);
    };
    heard();
    socket.on('error', (err) => settle(undefined, `the agent's control socket failed (${errnoCode(err) ?? err.message})`));
    socket.once('close', () => settle(undefined, 'the agent closed the control socket before it finished'));
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('line', (line) => {
      heard();
      const reply = parseReply(line);
      if (reply === undefined) settle(undefined, 'the agent answered something this version does not understand');
      else if ('alive' in reply) return;
      else if ('report' in reply) reports.push(reply.report);
      else if ('differences' in reply) {
        const last = reports[reports.length - 1];
        if (last === undefined) settle(undefined, 'the agent sent differences before a report');
        // A loop, never push(...list): a long list spread into a call overflows the stack.
        else for (const d of reply.differences) last.differences.push(d);
      } else if ('done' in reply) {
        // Every report whole: as many differences as its summary counts.
        if (reports.some((r) => r.differences.length !== r.summary.differences))
          settle(undefined, 'the agent sent a report with differences missing');
        log.debug(`the agent ran the check (${plural(reports.length, 'folder')})`);
        settle(reports);
      } else settle(undefined, `the agent refused (${reply.refused.code}: ${reply.refused.message})`);
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}

function parseReply(line: string): ControlReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.report === 'object' && r.report !== null) {
    const report = r.report as CheckReport;
    if (!Array.isArray(report.differences) || typeof report.summary !== 'object' || report.summary === null) return undefined;
    return { report };
  }
  if (Array.isArray(r.differences)) return { differences: r.differences as CheckReport['differences'] };
  if (r.done === true) return { done: true };
  if (r.alive === true) return { alive: true };
  const refused = r.refused as Record<string, unknown> | undefined;
  if (typeof refused === 'object' && refused !== null && typeof refused.code === 'string' && typeof refused.message === 'string') {
    return { refused: { code: refused.code, message: refused.message } };
  }
  return undefined;
}

/** Whether this data dir's agent runs (its control socket takes a connection). */
export async function agentAnswers(dataDir: string): Promise<boolean> {
  const socketPath = controlSocketPath(dataDir);
  const socket = socketPath === undefined ? undefined : await connect(socketPath);
  socket?.destroy();
  return socket !== undefined;
}

/** The socket, or undefined when no agent listens there. */
function connect(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      log.debug(`no agent on ${socketPath} (${errnoCode(err) ?? err.message}): checking in this process`);
      resolve(undefined);
    });
  });
}
