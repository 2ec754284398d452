/**
 * The agent's status page and JSON API over HTTP (docs/api.md): on
 * 127.0.0.1 unless the user names another address, behind the token in an
 * `Authorization: Bearer` header only (never a cookie: a browser sends the
 * cookies of 127.0.0.1 to every port there, so to any other local server;
 * never the query string: it lands in logs and history), with a Host check
 * against DNS rebinding, POSTs that need the X-Synker-Token header too, no
 * CORS headers, a strict CSP, and bounded requests. The page gets the token
 * from its address's fragment (#token=…), which no browser sends anywhere.
 * The page's files come from a fixed list: no part of a request's path
 * reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { errnoCode } from '../base/errors.js';
import { WebPortInUseError } from './errors.js';
import type { Logger } from '../base/log.js';
import { API_VERSION, folderBody, historyBody, noFolder, statusBody, WebActionError, type WebSource } from './api.js';
import type { WebEvents } from './events.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { isToken } from './token.js';
import { pageUrl } from './address-file.js';

/** The only files the server ever reads: the page's, and src/base's units and printable (the page's rules for numbers and names). */
const ASSETS = new URL('../../../src/web/assets/', import.meta.url);
const JS = 'text/javascript; charset=utf-8';
const STATIC: ReadonlyMap<string, { file: URL; type: string }> = new Map([
  ['/', { file: new URL('index.html', ASSETS), type: 'text/html; charset=utf-8' }],
  ['/app.js', { file: new URL('app.js', ASSETS), type: JS }],
  ['/style.css', { file: new URL('style.css', ASSETS), type: 'text/css; charset=utf-8' }],
  ['/units.js', { file: new URL('../base/units.js', import.meta.url), type: JS }],
  ['/printable.js', { file: new URL('../base/printable.js', import.meta.url), type: JS }],
]);

/** A request body bigger than this is refused: the actions take none. */
export const MAX_BODY_BYTES = 4096;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export interface WebServerOptions {
  source: WebSource;
  events: WebEvents;
  token: string;
  /** The address to listen on (127.0.0.1 unless the user opted in to another). */
  host: string;
  /** The first port tried (0: any free port). */
  port: number;
  /** How many ports from `port` on are tried when one is taken (1: that port only). */
  tries: number;
  logger: Logger;
  now?: () => number;
}

export interface WebServer {
  readonly host: string;
  readonly port: number;
  /** The page's address, without the token. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  let port = 0;
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res, options, port).catch((err: unknown) => {
      options.logger.error(`status page: ${req.method} ${req.url?.split('?')[0]} failed:`, err);
      if (!res.headersSent) sendError(res, 500, 'E_WEB_INTERNAL', 'the agent could not answer');
      else res.destroy();
    });
  });
  server.maxConnections = 64;
  for (let i = 0; i < options.tries; i++) {
    const tryPort = options.port === 0 ? 0 : options.port + i;
    try {
      await listen(server, options.host, tryPort);
      port = (server.address() as AddressInfo).port;
      break;
    } catch (err) {
      if (!portTaken(err)) throw err;
      if (i === options.tries - 1) throw new WebPortInUseError(options.host, options.port, options.tries);
    }
  }
  server.on('clientError', (_err, socket) => socket.destroy());
  return {
    host: options.host,
    port,
    url: pageUrl(options.host, port),
    close: () =>
      new Promise<void>((resolve) => {
        options.events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Whether listening failed because the port cannot be had: held by another
 * socket (EADDRINUSE; libuv binds without SO_REUSEADDR on Windows, so a
 * second listener is refused there as here), or, on Windows, inside a range
 * the system keeps for itself (Hyper-V, WSL and Docker reserve blocks of
 * ports: `netsh interface ipv4 show excludedportrange protocol=tcp`), which
 * Windows answers with WSAEACCES, EACCES to Node.
 */
export function portTaken(err: unknown, platform: NodeJS.Platform = process.platform): boolean {
  const code = errnoCode(err);
  return code === 'EADDRINUSE' || (platform === 'win32' && code === 'EACCES');
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve(void server.off('error', reject)));
  });
}

/**
 * Host header values that name this server: `localhost`, or an IP address (a
 * page of another site reaches this server through DNS rebinding only by a
 * name), with this server's port.
 */
function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (hostHeader === undefined) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(hostHeader);
  if (m === null || Number(m[2]) !== port) return false;
  const host = m[1]!.toLowerCase();
  return host === 'localhost' || isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

async function handle(req: IncomingMessage, res: ServerResponse, o: WebServerOptions, port: number): Promise<void> {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  if (!hostAllowed(req.headers.host, port)) {
    // DNS rebinding: a page of another site whose name now points here.
    req.resume();
    return sendError(res, 403, 'E_WEB_HOST', 'this page answers only to its own address (Host header refused)');
  }
  if (!(await bodyWithinLimit(req))) {
    res.setHeader('Connection', 'close');
    return sendError(res, 413, 'E_WEB_TOO_LARGE', `a request body is at most ${MAX_BODY_BYTES} bytes`);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const asset = STATIC.get(url.pathname);
  if (asset !== undefined) {
    if (method !== 'GET') return methodNotAllowed(res, 'GET');
    const body = await readFile(asset.file);
    res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', 'Content-Length': body.length });
    res.end(body);
    return;
  }
  if (url.pathname !== '/metrics' && !url.pathname.startsWith('/api/')) return sendError(res, 404, 'E_WEB_NOT_FOUND', 'no such page');
  res.setHeader('Cache-Control', 'no-store');
  if (url.searchParams.has('token'))
    // It would stay in logs, proxies and the browser's history: refused even when right.
    return sendError(res, 400, 'E_WEB_TOKEN', 'the token goes in the Authorization header, never in the address', TOKEN_HINT);
  if (!isToken(bearerToken(req), o.token)) return sendError(res, 401, 'E_WEB_TOKEN', 'this needs the status page token', TOKEN_HINT);
  const route = matchRoute(url.pathname);
  if (route === undefined) return sendError(res, 404, 'E_WEB_NOT_FOUND', 'no such API path');
  if (route.id === null) return sendError(res, 400, 'E_WEB_BAD_REQUEST', 'the folder ID in the path is not valid percent-encoding');
  if (method !== route.method) return methodNotAllowed(res, route.method);
  if (method === 'POST') {
    // CSRF: neither header comes with a request that a form or another site's page can make.
    const header = req.headers['x-synker-token'];
    if (!isToken(typeof header === 'string' ? header : undefined, o.token))
      return sendError(res, 403, 'E_WEB_CSRF', 'an action needs the X-Synker-Token header');
    const origin = req.headers.origin;
    if (origin !== undefined && !(origin.startsWith('http://') && hostAllowed(origin.slice('http://'.length), port)))
      return sendError(res, 403, 'E_WEB_CSRF', 'an action from another site is refused');
  }
  const now = (o.now ?? Date.now)();
  try {
    switch (route.name) {
      case 'status':
        return sendJson(res, 200, await statusBody(o.source, now));
      case 'session':
        return sendJson(res, 200, { api: API_VERSION, token: o.token });
      case 'folder':
        return sendJson(res, 200, await folderBody(o.source, route.id!, now));
      case 'history':
        return sendJson(res, 200, await historyBody(o.source, route.id!, url.searchParams.get('days'), now));
      case 'check':
        await knownFolder(o.source, route.id!);
        o.source.checkNow(route.id!);
        return sendJson(res, 202, { api: API_VERSION, started: true });
      case 'report':
        await knownFolder(o.source, route.id!);
        await o.source.resendReport(route.id!);
        return sendJson(res, 202, { api: API_VERSION, queued: true });
      case 'events':
        if (!o.events.open(res, SECURITY_HEADERS)) return sendError(res, 503, 'E_WEB_BUSY', 'too many event streams are open');
        return;
      case 'metrics': {
        const body = await statusBody(o.source, now);
        const text = renderMetrics(body.folders, body.device.name, body.outbox.waiting);
        res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE });
        res.end(text);
        return;
      }
    }
  } catch (err) {
    if (err instanceof WebActionError) return sendError(res, err.status, err.code, err.message, err.hint);
    throw err;
  }
}

const TOKEN_HINT =
  'Open the page with `synker ui` (it adds the token), or send "Authorization: Bearer TOKEN" (the token is in the data directory\'s web-token file).';

async function knownFolder(source: WebSource, id: string): Promise<void> {
  if (!(await source.status()).folders.some((f) => f.id === id)) throw noFolder(id);
}

type RouteName = 'status' | 'session' | 'events' | 'metrics' | 'folder' | 'history' | 'check' | 'report';

/** The API path's route; `id` null when the folder segment is not valid percent-encoding. */
function matchRoute(pathname: string): { name: RouteName; method: 'GET' | 'POST'; id?: string | null } | undefined {
  if (pathname === '/metrics') return { name: 'metrics', method: 'GET' };
  if (pathname === '/api/v1/status') return { name: 'status', method: 'GET' };
  if (pathname === '/api/v1/session') return { name: 'session', method: 'GET' };
  if (pathname === '/api/v1/events') return { name: 'events', method: 'GET' };
  const m = /^\/api\/v1\/folders\/([^/]+)(?:\/(history|check|report))?$/.exec(pathname);
  if (m === null) return undefined;
  let id: string | null;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    id = null;
  }
  const sub = m[2] as 'history' | 'check' | 'report' | undefined;
  if (sub === undefined) return { name: 'folder', method: 'GET', id };
  return { name: sub, method: sub === 'history' ? 'GET' : 'POST', id };
}

/** Reads and drops the body; false (and the rest unread) once it passes MAX_BODY_BYTES. */
function bodyWithinLimit(req: IncomingMessage): Promise<boolean> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > MAX_BODY_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > MAX_BODY_BYTES) {
        req.pause();
        resolve(false);
      }
    });
    req.once('end', () => resolve(true));
    req.once('error', () => resolve(false));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, hint?: string): void {
  res.setHeader('Cache-Control', 'no-store');
  sendJson(res, status, { api: API_VERSION, error: { code, message, ...(hint === undefined ? {} : { hint }) } });
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'E_WEB_METHOD', `this path takes ${allow} only`);
}
