/** Check reports built the real way (diffManifests + buildReport) from hand-made manifests. */
import { createHash } from 'node:crypto';
import { diffManifests } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { compareEntries } from '../../src/manifest/order.js';
import { buildReport, type CheckReport } from '../../src/report/model.js';

const T0 = Date.UTC(2026, 10, 20, 10, 30, 0);

export function file(path: string, content: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    path,
    type: 'file',
    size: Buffer.byteLength(content),
    mtime: T0,
    mode: 0o644,
    hash: createHash('sha256').update(content).digest('hex'),
    ...extra,
  };
}

async function* stream(entries: ManifestEntry[]): AsyncGenerator<ManifestEntry> {
  for (const entry of [...entries].sort(compareEntries)) yield entry;
}

export async function reportOf(source: ManifestEntry[], backup: ManifestEntry[], folderId = 'pictures'): Promise<CheckReport> {
  const diff = await diffManifests(stream(source), stream(backup), {
    // Files 'verified' before with other content: lets the report say which side changed.
    verified: (p) =>
      p.startsWith('suspicious/') ? { hash: createHash('sha256').update('old').digest('hex'), size: 3, mtime: T0 } : undefined,
  });
  return buildReport({
    folderId,
    startedAt: new Date('2026-11-25T03:17:00Z'),
    finishedAt: new Date('2026-11-25T03:19:05Z'),
    source: { name: 'laptop', deviceId: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUV', location: '127.0.0.1:22000', scan: null },
    backup: {
      name: 'nas',
      deviceId: 'BCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVW',
      location: '/srv/backup/pictures',
      scan: null,
    },
    verify: false,
    sizeOnly: false,
    diff,
  });
}
