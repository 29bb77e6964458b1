// A free loopback port for a test server (the server's own helper).
export { freePort } from '../../src/ports.js';
