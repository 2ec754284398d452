/**
 * TLS settings shared by both ends, and device-ID pinning. There is no CA:
 * each side hashes the certificate the other presented (NOTES: Node skips
 * its own checks for self-signed certificates, so the pin is checked here).
 */
import type { TLSSocket } from 'node:tls';
import { deviceIdFromCertificate } from '../config/device-id.js';

export const TLS_VERSION = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/** Device ID of the certificate the other end presented, or undefined when it presented none. */
export function peerDeviceId(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate(true) as { raw?: Buffer } | null;
  if (cert === null || cert.raw === undefined || cert.raw.length === 0) return undefined;
  return deviceIdFromCertificate(cert.raw);
}
