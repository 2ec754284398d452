/**
 * The agent's status page (src/web): where it listens (flags, then the
 * config's `web` section, then 127.0.0.1:7781 or the next free port), what
 * it shows (the status `synker status` collects, this device) and the two
 * actions it may take (the schedule's check of a folder now; the last report
 * e-mailed again). Its address goes into the data directory for `synker ui`.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import type { ConfigStore } from '../config/config-store.js';
import { DEFAULT_WEB_LISTEN, DEFAULT_WEB_PORT, isLoopback, WEB_PORT_TRIES } from '../config/web.js';
import { formatDeviceId } from '../identity/device-id.js';
import type { Logger } from '../base/log.js';
import type { BackupSchedule } from '../schedule/backup-schedule.js';
import { collectStatus } from '../schedule/status.js';
import { removeWebAddress, writeWebAddress } from '../web/address-file.js';
import { WebActionError, type WebSource } from '../web/api.js';
import type { WebEvents } from '../web/events.js';
import { startWebServer } from '../web/server.js';
import { WebPortInUseError } from '../web/errors.js';
import { webToken } from '../web/token.js';
import { readHistory } from '../schedule/history.js';
import { renderKeptReportEmail, resendKey } from '../schedule/resend-report.js';
import { scheduleSettingsOf, smtpSettingsOf } from '../config/settings.js';
import { Outbox } from '../mail/outbox.js';
import { outboxDir } from '../dirs/data-files.js';
import { composeMessage } from '../mail/compose.js';
import { flushOutbox } from '../mail/deliver.js';
import { LastReportError, lastReportFile, readLastReport } from '../schedule/last-report.js';

/** `--web-port`, `--web-listen`, `--no-web`: each overrides the config's `web` section. */
export interface WebOptions {
  enabled?: boolean;
  port?: number;
  listen?: string;
}

export interface AgentWebContext {
  options: WebOptions | undefined;
  store: ConfigStore;
  dataDir: string;
  deviceId: string;
  agentName: () => string;
  schedule: () => BackupSchedule | undefined;
  events: WebEvents;
  logger: Logger;
}

export interface AgentWeb {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the page; undefined when it is off, or the default ports are all taken (logged). */
export async function startAgentWeb(ctx: AgentWebContext): Promise<AgentWeb | undefined> {
  const config = ctx.store.current().web ?? {};
  if ((ctx.options?.enabled ?? config.enabled) === false) return undefined;
  const host = ctx.options?.listen ?? config.listen ?? DEFAULT_WEB_LISTEN;
  const chosen = ctx.options?.port ?? config.port;
  const log = ctx.logger;
  let server: Awaited<ReturnType<typeof startWebServer>>;
  try {
    server = await startWebServer({
      source: webSource(ctx),
      events: ctx.events,
      token: await webToken(ctx.dataDir),
      host,
      port: chosen ?? DEFAULT_WEB_PORT,
      // A port the user chose is that port or an error; the default may move on (another home's agent holds it).
      tries: chosen === undefined ? WEB_PORT_TRIES : 1,
      logger: log,
    });
  } catch (err) {
    if (err instanceof WebPortInUseError && chosen === undefined) {
      log.warn(`${err.message}: running without the status page (${err.hint})`);
      return undefined;
    }
    throw err;
  }
  if (chosen === undefined && server.port !== DEFAULT_WEB_PORT)
    log.info(`port ${DEFAULT_WEB_PORT} is taken (another home's agent?): the status page moved to port ${server.port}`);
  if (!isLoopback(host))
    log.warn(`the status page listens on ${host} (--web-listen): other machines can reach it; it still needs the token`);
  const address = await writeWebAddress(ctx.dataDir, server.host, server.port).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  log.info(`status page: ${server.url} (synker ui opens it with its token)`);
  const watch = await watchOutbox(ctx);
  return {
    url: server.url,
    async close() {
      clearInterval(watch);
      await Promise.allSettled([server.close(), removeWebAddress(ctx.dataDir, address)]);
    },
  };
}

/** How often the outbox is looked at while a page listens: another process (synker outbox --send, check --email) changes it too. */
const OUTBOX_LOOK_MS = 5_000;

/**
 * Tells the open pages when the outbox changed, whoever changed it: its
 * folder's names (messages come and go; the sent journal grows), looked at
 * every OUTBOX_LOOK_MS, without reading any message.
 */
async function watchOutbox(ctx: AgentWebContext): Promise<NodeJS.Timeout> {
  const dir = outboxDir(ctx.dataDir);
  let seen: string | undefined;
  let looking = false;
  const look = async (): Promise<void> => {
    if (looking) return;
    looking = true;
    try {
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
        names = [];
      }
      // The sent journal's size too: a message sent and another queued leave the same names.
      const journal = names.includes('sent.log') ? (await stat(path.join(dir, 'sent.log'))).size : 0;
      const now = JSON.stringify([names, journal]);
      if (seen !== undefined && now !== seen && ctx.events.size > 0) ctx.events.statusChanged({ reason: 'outbox' });
      seen = now;
    } catch (err) {
      ctx.logger.debug(`status page: cannot look at the outbox: ${(err as Error).message}`);
    } finally {
      looking = false;
    }
  };
  // What it holds when the agent starts is the mark: every change from then on is told.
  await look();
  const timer = setInterval(() => void look(), OUTBOX_LOOK_MS);
  timer.unref();
  return timer;
}

/** Whether a last report of the folder is kept (its file is there; reading it is resendReport's). */
async function hasLastReport(dataDir: string, folderId: string): Promise<boolean> {
  try {
    return (await stat(lastReportFile(dataDir, folderId))).isFile();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

function webSource(ctx: AgentWebContext): WebSource {
  const folder = (id: string) => ctx.store.current().folders.find((f) => f.id === id);
  return {
    device: () => ({ id: formatDeviceId(ctx.deviceId), name: ctx.agentName() }),
    status: () => collectStatus(ctx.store.current(), ctx.dataDir, Date.now()),
    async lastReport(id) {
      try {
        const kept = await readLastReport(ctx.dataDir, id);
        if (kept === null) return null;
        const { version: _version, ...view } = kept;
        return view;
      } catch (err) {
        // A damaged file is replaced by the next run; the page says "no report" meanwhile, the log says why.
        if (!(err instanceof LastReportError) || err.code !== 'E_LAST_REPORT_DAMAGED') throw err;
        ctx.logger.warn(`${err.message} (${err.hint})`);
        return null;
      }
    },
    history: async (id, days, now) => (await readHistory(ctx.dataDir, id, { days, now })).checks,
    checkNow(id) {
      if (folder(id)?.role === 'source')
        throw new WebActionError(409, 'E_WEB_NOT_BACKUP', `"${id}" holds the originals here: its backups check it`);
      const schedule = ctx.schedule();
      if (schedule === undefined)
        throw new WebActionError(
          409,
          'E_WEB_NO_SCHEDULE',
          'this agent runs without its schedule (--no-schedule)',
          `Run synker check ${id} in a terminal.`,
        );
      const refused = schedule.scheduler.checkNow(id);
      if (refused === 'running') throw new WebActionError(409, 'E_WEB_CHECK_RUNNING', `a check of "${id}" runs already`);
      if (refused === 'stopped') throw new WebActionError(409, 'E_WEB_STOPPING', 'the agent is stopping');
    },
    async actions(f) {
      const canMail = smtpSettingsOf(ctx.store.current()) !== undefined;
      return {
        check: f.role === 'backup' && ctx.schedule() !== undefined,
        report: canMail && (await hasLastReport(ctx.dataDir, f.id)),
      };
    },
    async resendReport(id) {
      const config = ctx.store.current();
      const smtp = smtpSettingsOf(config);
      if (smtp === undefined)
        throw new WebActionError(409, 'E_WEB_NO_SMTP', 'e-mail is not set up here (no "smtp" section in the config)', 'See docs/email.md.');
      const last = await readLastReport(ctx.dataDir, id).catch((err: unknown) => {
        if (err instanceof LastReportError && err.code === 'E_LAST_REPORT_DAMAGED') return null;
        throw err;
      });
      if (last === null) throw new WebActionError(404, 'E_WEB_NO_REPORT', `no report of "${id}" is kept yet`, `Run a check first.`);
      const now = Date.now();
      const settings = scheduleSettingsOf(config);
      const content = renderKeptReportEmail(last, {
        now: new Date(now),
        agentName: ctx.agentName(),
        ...(settings.timezone !== undefined ? { timeZone: settings.timezone } : {}),
      });
      const setup = { settings: smtp, outbox: new Outbox(outboxDir(ctx.dataDir)) };
      // Queued at once (nothing is lost); delivered in the background, as the schedule's own mail is.
      const queued = await setup.outbox.add(await composeMessage(smtp, content, resendKey(last, now), new Date(now)));
      ctx.events.statusChanged({ reason: 'outbox' });
      if (queued === undefined) return;
      void flushOutbox(setup)
        .then((flush) => {
          for (const f of flush.failed) ctx.logger.warn(`the report of "${id}" sent again waits in the outbox: ${f.error.message}`);
        })
        .catch((err: unknown) => ctx.logger.warn(`the report of "${id}" sent again waits in the outbox:`, err as Error))
        .finally(() => ctx.events.statusChanged({ reason: 'outbox' }));
    },
  };
}
