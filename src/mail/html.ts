/**
 * The HTML kit: pages built to survive real mail clients (inline styles only,
 * tables for layout, no images, fonts, scripts or links to anything outside
 * the message), and Rendered, a part of a message as text and as HTML.
 */

/** A part of a message, as plain text and as HTML. */
export interface Rendered {
  text: string;
  html: string;
}

export const FONT = 'font-family:Arial,Helvetica,sans-serif;';
export const MONO = "font-family:Consolas,Menlo,'Courier New',monospace;";
export const COLORS = { ok: '#15803d', bad: '#b91c1c', warn: '#b45309', muted: '#6b7280', line: '#e5e7eb' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, banner: { color: string; text: string }, rows: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(title)}</title></head>`,
    `<body style="margin:0;padding:0;background-color:#f3f4f6;">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">`,
    `<tr><td align="center" style="padding:24px 8px;">`,
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background-color:#ffffff;border:1px solid ${COLORS.line};${FONT}color:#111827;">`,
    `<tr><td style="background-color:${banner.color};color:#ffffff;padding:16px 24px;font-size:20px;font-weight:bold;${FONT}">${escapeHtml(banner.text)}</td></tr>`,
    ...rows.map((r) => `<tr><td style="padding:12px 24px;font-size:14px;line-height:1.5;${FONT}">${r}</td></tr>`),
    `</table></td></tr></table></body></html>`,
  ].join('\n');
}

export function paragraph(html: string, style = ''): string {
  return `<p style="margin:0 0 8px 0;${style}">${html}</p>`;
}

export function callout(color: string, html: string): string {
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="border-left:4px solid ${color};background-color:#fef3c7;padding:8px 12px;font-size:14px;${FONT}">${html}</td></tr></table>`;
}

export function dataTable(header: string[], rows: string[][], align: Array<'left' | 'right'>): string {
  const cell = (tag: 'th' | 'td', text: string, i: number) =>
    `<${tag} align="${align[i] ?? 'left'}" style="padding:4px 8px;border-bottom:1px solid ${COLORS.line};font-size:13px;${tag === 'th' ? 'color:#374151;' : ''}${FONT}">${text}</${tag}>`;
  return [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">`,
    `<tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr>`,
    ...rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`),
    '</table>',
  ].join('\n');
}
