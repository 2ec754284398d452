/**
 * What `synker doctor` reports: one finding per thing checked. A problem
 * always carries a one-line fix a user can act on.
 */
export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  /** The area checked: config, identity, port, multicast, peer, smtp. */
  check: string;
  status: FindingStatus;
  /** What was found, in a user's words. */
  message: string;
  /** One line: what to do about it (set on warn and fail). */
  fix?: string;
}

export interface DoctorReport {
  findings: Finding[];
  problems: number;
  warnings: number;
}

export function summarize(findings: Finding[]): DoctorReport {
  return {
    findings,
    problems: findings.filter((f) => f.status === 'fail').length,
    warnings: findings.filter((f) => f.status === 'warn').length,
  };
}

export const ok = (check: string, message: string): Finding => ({ check, status: 'ok', message });
export const warn = (check: string, message: string, fix: string): Finding => ({ check, status: 'warn', message, fix });
export const fail = (check: string, message: string, fix: string): Finding => ({ check, status: 'fail', message, fix });
export const skip = (check: string, message: string): Finding => ({ check, status: 'skip', message });
