/** Ports for tests: servers listen on port 0 and tell their port; these are for what cannot. */
import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that refuses connections: 1 (tcpmux), privileged and served by nothing
 * here, so no test or other process can take it meanwhile, as it could a port found free and released.
 */
export const REFUSED_PORT = 1;

/**
 * A port that nothing listens on right now (taken and released, so another process may take it
 * before it is used): only for a server that cannot be told to listen on port 0 and report the
 * port it got (OpenSMTPD, test/system/email-mta.test.ts), and doctor's finding that the agent's
 * port is free (test/integration/doctor.test.ts). Everything else listens on port 0.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
