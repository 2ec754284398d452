/** Child process for the identity race test: loads or creates the identity in argv[2] and prints its device ID. */
import { loadOrCreateIdentity } from '../../src/identity/identity.js';

const { identity, created } = await loadOrCreateIdentity(process.argv[2]!);
process.stdout.write(`device ${identity.deviceId} ${created ? 'created' : 'loaded'}\n`);
