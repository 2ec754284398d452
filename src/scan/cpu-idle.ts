/**
 * How much of the machine's CPU time went unused (idle or waiting on I/O)
 * between two readings of /proc/stat. The hash pool adds reader threads only
 * when reads are slow *and* the CPUs wait: slow reads on busy CPUs mean the
 * threads wait for a core, not for the disk, and more threads would only add
 * context switches (seen on a 2-core machine: a warm scan grew to 8 threads
 * and used 15% more CPU). Where /proc/stat does not exist (macOS, Windows),
 * the answer is undefined and the pool decides on read times alone.
 */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  idle: number;
  total: number;
}

/** The machine's CPU time counters now, or undefined where they cannot be read. */
export function readCpuTimes(): CpuTimes | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'latin1');
  } catch {
    return undefined;
  }
  return parseCpuTimes(text);
}

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal ... */
export function parseCpuTimes(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 6) return undefined;
  const values = fields.slice(1, 9).map(Number);
  if (values.some((v) => !Number.isFinite(v))) return undefined;
  const total = values.reduce((sum, v) => sum + v, 0);
  return { idle: values[3]! + values[4]!, total };
}

/** The share (0..1) of CPU time unused between two readings; undefined without readings or time between them. */
export function idleShare(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return Math.min(1, Math.max(0, (after.idle - before.idle) / total));
}
