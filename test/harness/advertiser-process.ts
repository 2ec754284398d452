/** Run the advertise fixture in a namespace and follow what it prints. */
import type { ChildProcess } from 'node:child_process';
import { ADVERTISE_FIXTURE } from './synker-bin.js';
import { stopProcess, waitFor, type Netns } from './netns.js';

export interface FixtureEvent {
  event: 'added' | 'updated' | 'removed';
  deviceId: string | null;
  name: string;
  addresses: string[];
}

export interface AdvertiserProcess {
  child: ChildProcess;
  deviceId: string;
  instance: string;
  /** When its links were up and the first announcement due (ms since the epoch). */
  readyAt: number;
  events: FixtureEvent[];
  /** Wait for a peer-table event (needs --browse) matching `predicate`. */
  waitForEvent(what: string, predicate: (e: FixtureEvent) => boolean, timeoutMs?: number): Promise<FixtureEvent>;
  /** SIGTERM (goodbye packets), wait for exit. */
  stop(): Promise<void>;
  stderr(): string;
}

export async function startAdvertiser(ns: Netns, args: string[]): Promise<AdvertiserProcess> {
  const child = ns.spawn(process.execPath, [ADVERTISE_FIXTURE, ...args], { env: { ...process.env, SYNKER_LOG: 'debug' } });
  let stdout = '';
  let stderr = '';
  const lines: unknown[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (let nl = stdout.indexOf('\n'); nl !== -1; nl = stdout.indexOf('\n')) {
      lines.push(JSON.parse(stdout.slice(0, nl)));
      stdout = stdout.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const first = (await waitFor(`the advertiser to start (stderr: ${stderr.slice(-1500)})`, () => lines[0], 30_000)) as {
    deviceId: string;
    instance: string;
    readyAt: number;
  };
  const events = (): FixtureEvent[] => lines.slice(1) as FixtureEvent[];
  return {
    child,
    deviceId: first.deviceId,
    instance: first.instance,
    readyAt: first.readyAt,
    get events() {
      return events();
    },
    waitForEvent: (what, predicate, timeoutMs = 30_000) =>
      waitFor(`${what} (events: ${JSON.stringify(events())})`, () => events().find(predicate), timeoutMs),
    stop: () => stopProcess(child),
    stderr: () => stderr,
  };
}
