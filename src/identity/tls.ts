/**
 * TLS settings shared by both ends, and device-ID pinning. There is no CA:
 * each side hashes the certificate the other presented (NOTES: Node skips
 * its own checks for self-signed certificates, so the pin is checked here).
 */
import type { TLSSocket } from 'node:tls';
import { deviceIdFromCertificate } from './device-id.js';

/**
 * TLS 1.3 only, AES-128-GCM first. Device keys are ECDSA P-256 and the key
 * exchange is X25519 or P-256: 128-bit security either way, which AES-256
 * does not raise. AES-128-GCM costs about a fifth less CPU per byte (here:
 * 3.7 vs 3.05 GB/s in `openssl speed`), which a sync of large files feels on
 * both ends; Go and BoringSSL prefer it too. The source (the server) decides,
 * so an older peer that lists AES-256 first still gets AES-128.
 */
export const TLS_SETTINGS = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
  honorCipherOrder: true,
} as const;

/** Device ID of the certificate the other end presented, or undefined when it presented none. */
export function peerDeviceId(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate(true) as { raw?: Buffer } | null;
  if (cert === null || cert.raw === undefined || cert.raw.length === 0) return undefined;
  return deviceIdFromCertificate(cert.raw);
}

/**
 * Close a connection made only to read the other end's certificate (`synker doctor`, `synker peers`):
 * the last handshake message is flushed and close_notify sent, so an agent there sees a finished
 * handshake and a goodbye, not a hang-up in the middle of one (which it logs as a failed handshake).
 * A peer that does not close its side in time is cut off.
 */
export function endProbe(socket: TLSSocket, graceMs = 2000): void {
  socket.on('error', () => undefined);
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}
