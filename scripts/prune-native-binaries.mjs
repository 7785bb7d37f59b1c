// Build stage of the image: uWebSockets.js ships its native binary for every platform and Node ABI (~90 MB);
// the server loads only the one of this platform, architecture and Node (supervisor/http/uws.ts). Keeps that one.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'node_modules/uWebSockets.js/binaries';
const keep = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
const binaries = readdirSync(dir).filter((file) => file.endsWith('.node'));
if (!binaries.includes(keep)) throw new Error(`${dir} has no ${keep}: this Node cannot run the server`);
for (const file of binaries) if (file !== keep) rmSync(join(dir, file));
console.log(`uWebSockets.js: kept ${keep}, removed ${binaries.length - 1} other binaries`);
