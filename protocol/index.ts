/** The only module both the supervisor and the tenant worker import. */
export * from './messages.js';
export * from './rpc.js';
export * from './secret-box.js';
