// The test servers' locations, as scripts/test-servers.sh provisions them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CACHE } = require('../../scripts/servers') as { CACHE: string };

/** Consul from Debian bullseye's package, unpacked into the test cache. */
export const CONSUL_BINARY = `${CACHE}/consul/usr/bin/consul`;
