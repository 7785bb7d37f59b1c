import envExample from '$repo/.env.example?raw';
import { parseEnvExample } from '$lib/docs/env-reference';

export function load() {
  return { variables: parseEnvExample(envExample) };
}
