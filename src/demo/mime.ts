/**
 * Just enough MIME to take a received report apart: its Subject (RFC 2047
 * encoded words decoded) and its HTML part (multipart walked, quoted-printable
 * or base64 decoded, charset applied), so the demo can save the HTML the
 * mail server really received as a page to open in a browser. Not a general
 * mail parser: it reads what synker's own composer writes (nodemailer).
 */
import { DemoError } from './errors.js';

interface Entity {
  headers: Map<string, string>;
  /** The body as read: one char per byte (latin1), so binary content survives. */
  body: string;
}

/** Nested multiparts deeper than this are not a report. */
const MAX_DEPTH = 8;

function parseEntity(text: string): Entity {
  const end = /\r?\n\r?\n/.exec(text);
  const head = end ? text.slice(0, end.index) : text;
  const body = end ? text.slice(end.index + end[0].length) : '';
  const headers = new Map<string, string>();
  // Folded header lines continue with whitespace (RFC 5322 §2.2.3).
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function headerParams(value: string): { value: string; params: Map<string, string> } {
  const [first = '', ...rest] = value.split(';');
  const params = new Map<string, string>();
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    params.set(
      item.slice(0, eq).trim().toLowerCase(),
      item
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1'),
    );
  }
  return { value: first.trim().toLowerCase(), params };
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    const bare = line.trimEnd();
    if (bare === `--${boundary}--`) break;
    if (bare === `--${boundary}`) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
    } else current?.push(line);
  }
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

function decodeBody(entity: Entity): Buffer {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(entity.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') {
    const text = entity.body.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
    return Buffer.from(
      text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
  }
  return Buffer.from(entity.body, 'latin1');
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    // An unknown charset label: UTF-8 is what synker writes.
    return bytes.toString('utf8');
  }
}

function findPart(entity: Entity, type: string, depth: number): Entity | undefined {
  const contentType = headerParams(entity.headers.get('content-type') ?? 'text/plain');
  if (contentType.value.startsWith('multipart/')) {
    const boundary = contentType.params.get('boundary');
    if (boundary === undefined || depth >= MAX_DEPTH) return undefined;
    for (const part of splitMultipart(entity.body, boundary)) {
      const found = findPart(parseEntity(part), type, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const disposition = headerParams(entity.headers.get('content-disposition') ?? 'inline').value;
  return contentType.value === type && disposition !== 'attachment' ? entity : undefined;
}

/** RFC 2047 encoded words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`) in a header value. */
export function decodeHeaderWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, kind: string, text: string) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return decodeCharset(bytes, charset.split('*')[0]);
    });
}

export interface ReportMessage {
  subject: string;
  html: string;
}

/** The subject and HTML body of a received report; a DemoError when the message has no HTML part. */
export function readReportMessage(raw: Buffer): ReportMessage {
  const message = parseEntity(raw.toString('latin1'));
  const subject = decodeHeaderWords(Buffer.from(message.headers.get('subject') ?? '', 'latin1').toString('utf8'));
  const part = findPart(message, 'text/html', 0);
  if (!part) {
    throw new DemoError('E_DEMO_MAIL', 'the report that reached the demo mail server has no HTML part', {
      hint: 'This is a bug in the report e-mail: please report it with the report.eml the demo saved.',
    });
  }
  const html = decodeCharset(decodeBody(part), headerParams(part.headers.get('content-type') ?? '').params.get('charset'));
  // Text travels with CRLF line ends (MIME's canonical form); a file on disk gets plain LF.
  return { subject, html: html.replace(/\r\n/g, '\n') };
}
