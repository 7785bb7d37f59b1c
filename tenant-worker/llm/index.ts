/** The tenant's LLM: clients for every provider, the sealed settings, the usage ledger, and content generation. */
export * from './errors.js';
export * from './providers.js';
export * from './client.js';
export * from './pricing.js';
export * from './usage.js';
export * from './config.js';
export * from './content/prompts.js';
export * from './content/variety.js';
export * from './content/length.js';
export * from './content/thread-parse.js';
export * from './content/generator.js';
