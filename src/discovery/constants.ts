/**
 * DNS-SD names, record TTLs and timings of synker's LAN discovery, in one
 * place (docs/discovery.md explains each choice).
 */

/** The DNS-SD service type every synker agent advertises. */
export const SERVICE_TYPE = '_synker._tcp.local';
/** DNS-SD service-type enumeration (RFC 6763 §9): answered so browsers like avahi-browse -a see us. */
export const SERVICES_ENUMERATION = '_services._dns-sd._udp.local';

export const MDNS_PORT = 5353;
export const MDNS_GROUP_V4 = '224.0.0.251';

/**
 * TTL of every record we publish, in seconds. RFC 6762 §10 suggests 120 s
 * for address records and 75 min for the rest; we use 120 s throughout so
 * a silent agent (crashed, laptop closed) leaves peer tables within two
 * minutes instead of 75.
 */
export const RECORD_TTL_S = 120;

/**
 * Peer-table entries expire when their records' TTL has run out without a
 * refresh, but never later than this (other implementations use TTLs up to
 * 75 min for service records; their address records are 120 s).
 */
export const MAX_SILENCE_MS = RECORD_TTL_S * 1000;

/** Unsolicited announcements on start or address change: RFC 6762 §8.3 (at least two, one second apart, doubling). */
export const ANNOUNCE_DELAYS_MS = [0, 1000, 3000];

/**
 * Browse queries: RFC 6762 §5.2 — start at one second, double each time,
 * cap at one hour. Entries near the end of their TTL are refreshed on their
 * own schedule (80 % and 90 % of the TTL, §5.2).
 */
export const BROWSE_FIRST_INTERVAL_MS = 1000;
export const BROWSE_MAX_INTERVAL_MS = 3_600_000;
export const REFRESH_AT = [0.8, 0.9] as const;

/** Answers to shared-record (PTR) queries are delayed 20-120 ms (RFC 6762 §6) so many responders do not collide. */
export const SHARED_ANSWER_DELAY_MS = [20, 120] as const;

/** How often the list of network interfaces is re-read to pick up new, changed and vanished ones. */
export const INTERFACE_POLL_MS = 2000;
