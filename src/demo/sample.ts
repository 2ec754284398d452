/**
 * The demo's sample: a source folder of family files and a backup copy of it
 * that drifted the way real backups do. Photos imported after the last copy
 * are missing, a document was edited on the source since, a folder was
 * renamed on the source (the backup still has the old name), and the backup
 * holds a file the source no longer has. Contents are made up (pseudo-random
 * bytes with JPEG markers for photos), deterministic, and small: the whole
 * sample is about 4 MB, so the demo is quick.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFolderMarker } from '../config/folder-marker.js';
import { makeDirs } from '../base/make-dirs.js';

/** The folder ID both demo agents share. */
export const DEMO_FOLDER_ID = 'family';

/** What the backup lacks or has in excess, by path relative to the folder root (forward slashes). */
export interface SampleDifferences {
  /** Photos on the source that never reached the backup. */
  missing: string[];
  /** Documents edited on the source after the backup was made (the backup holds the old version). */
  edited: string[];
  /** A folder renamed on the source after the copy: the backup still has `from`. */
  renamedFolder: { from: string; to: string };
  /** Files only the backup has (deleted on the source since). */
  extra: string[];
}

const RENAMED = { from: 'Trips/Lisboa 2024', to: 'Trips/Lisbon 2024' };

/**
 * Whole seconds plus a quarter: exact in binary (utimes sets it without
 * rounding) and not whole seconds, which would look like a FAT disk to the
 * check's automatic mtime tolerance.
 */
const BASE_MTIME_S = Date.UTC(2024, 8, 1, 10, 0, 0) / 1000 + 0.25;
const DAY_S = 86_400;

interface SampleFile {
  path: string;
  content: Buffer;
  mtimeS: number;
}

function photo(name: string, kib: number): Buffer {
  // Deterministic "image data" (AES-CTR of zeros keyed by the name: fast, incompressible) between JPEG start and end markers.
  const key = createHash('sha256').update(name).digest().subarray(0, 16);
  const data = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(kib * 1024 - 6));
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), data, Buffer.from([0xff, 0xd9])]);
}

const BUDGET_BEFORE = 'month,rent,food,travel\n2024-06,950,410,0\n2024-07,950,385,620\n';
const BUDGET_AFTER = `${BUDGET_BEFORE}2024-08,950,430,1180\n`;

function sourceFiles(): SampleFile[] {
  const files: SampleFile[] = [];
  let day = 0;
  const add = (p: string, content: Buffer | string): void => {
    files.push({ path: p, content: Buffer.isBuffer(content) ? content : Buffer.from(content), mtimeS: BASE_MTIME_S + day++ * DAY_S });
  };
  for (let i = 1; i <= 8; i++)
    add(
      `Photos/2024/Summer/IMG_20240${7 + (i > 4 ? 1 : 0)}${String(10 + i).padStart(2, '0')}_1${i}42.jpg`,
      photo(`summer-${i}`, 180 + i * 20),
    );
  for (let i = 1; i <= 5; i++)
    add(`Photos/2024/Birthday/IMG_20240914_18${String(i * 7).padStart(2, '0')}.jpg`, photo(`birthday-${i}`, 220 + i * 15));
  for (let i = 1; i <= 4; i++)
    add(`${RENAMED.to}/IMG_20240520_${String(9 + i).padStart(2, '0')}30.jpg`, photo(`lisbon-${i}`, 200 + i * 10));
  add(`${RENAMED.to}/itinerary.txt`, 'Day 1: Alfama, tram 28\nDay 2: Belém, pastéis\nDay 3: Sintra\n');
  add('Documents/Budget 2024.csv', BUDGET_AFTER);
  add('Documents/Letter to the landlord.txt', 'Dear Ms Ferreira,\n\nthe heating in the flat has not worked since Monday.\n');
  add('Documents/Recipes/grandma-apple-cake.md', '# Apple cake\n\n4 apples, 200 g flour, 150 g sugar, 3 eggs, 100 g butter.\n');
  return files;
}

/** What createSample() makes the backup lack or have in excess. */
export function sampleDifferences(): SampleDifferences {
  return {
    missing: [
      'Photos/2024/Birthday/IMG_20240914_1828.jpg',
      'Photos/2024/Birthday/IMG_20240914_1835.jpg',
      'Photos/2024/Summer/IMG_20240818_1842.jpg',
    ],
    edited: ['Documents/Budget 2024.csv'],
    renamedFolder: { ...RENAMED },
    extra: ['Documents/Scan of old lease.pdf'],
  };
}

export interface SampleStats {
  sourceFiles: number;
  sourceBytes: number;
}

/**
 * Writes the source and the drifted backup (both must not exist yet or be
 * empty), each with its folder marker, as `synker folder add` would.
 */
export async function createSample(sourceRoot: string, backupRoot: string): Promise<SampleStats> {
  const diff = sampleDifferences();
  const files = sourceFiles();
  for (const file of files) await put(sourceRoot, file);
  for (const file of files) {
    if (diff.missing.includes(file.path)) continue;
    if (diff.edited.includes(file.path)) {
      // The version from before the edit, as old as the last copy.
      await put(backupRoot, { path: file.path, content: Buffer.from(BUDGET_BEFORE), mtimeS: file.mtimeS - 30 * DAY_S });
      continue;
    }
    const renamed = file.path.startsWith(`${diff.renamedFolder.to}/`)
      ? `${diff.renamedFolder.from}/${file.path.slice(diff.renamedFolder.to.length + 1)}`
      : file.path;
    await put(backupRoot, { ...file, path: renamed });
  }
  for (const extra of diff.extra)
    await put(backupRoot, {
      path: extra,
      content: Buffer.from('%PDF-1.4\n% a scanned lease, deleted on the source since\n%%EOF\n'),
      mtimeS: BASE_MTIME_S - 200 * DAY_S,
    });
  await writeFolderMarker(sourceRoot, DEMO_FOLDER_ID);
  await writeFolderMarker(backupRoot, DEMO_FOLDER_ID);
  return { sourceFiles: files.length, sourceBytes: files.reduce((n, f) => n + f.content.length, 0) };
}

async function put(root: string, file: SampleFile): Promise<void> {
  const target = path.join(root, ...file.path.split('/'));
  await makeDirs(path.dirname(target));
  await writeFile(target, file.content);
  await utimes(target, file.mtimeS, file.mtimeS);
}
