/**
 * The answer to a request for a folder that does not exist or is not shared
 * with the asking device: the same words either way, so a device cannot
 * learn which folders exist (docs/protocol.md, `manifest-request`).
 */
import { shortDeviceId } from '../identity/device-id.js';
import type { OutgoingMessage } from '../protocol/index.js';

/** `agentName`: this agent's name; `peerDeviceId`: the asking device, named in the command to run here. */
export function folderNotFound(req: number, folderId: string, agentName: string, peerDeviceId: string): OutgoingMessage {
  // The command works for a folder that exists; for one that does not, it says so on this machine.
  return {
    kind: 'error',
    req,
    code: 'E_FOLDER_NOT_FOUND',
    message: `no folder "${folderId}" is shared with this device on ${agentName}`,
    hint: `Check the folder ID; to share the folder with this device, run \`synker folder share ${folderId} ${shortDeviceId(peerDeviceId)}\` on ${agentName}.`,
  };
}
