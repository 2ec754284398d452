import { SynkerError } from '../base/errors.js';

/** Errors of LAN discovery and static-peer handling (codes E_DISCOVERY_*, E_PEER_*). */
export class DiscoveryError extends SynkerError {}
